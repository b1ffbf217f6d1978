"""The words the product shows for the graph's codes, in English and Chinese: one place for each.

Every module that puts a role or an association position into a sentence, a path or a picture
reads it from here.
"""

from __future__ import annotations

__all__ = ["ROLE_WORDS", "POSITION_WORDS"]

# The words for roles and association positions, shared by every family's sentences.
ROLE_WORDS = {
    "legal_rep": ("the legal representative", "法定代表人"),
    "actual_controller": ("the actual controller", "实际控制人"),
    "director": ("a director", "董事"),
    "executive": ("an executive", "高管"),
    "shareholder": ("a shareholder", "股东"),
    "finance": ("the finance officer", "财务负责人"),
    "employee": ("an employee", "员工"),
    "other": ("a holder of another title", "其他职务人员"),  # a free-text title no word rule knows (roles.title)
    "related": ("a related person", "关联人"),  # a role row without a title
}
POSITION_WORDS = {
    "member": ("a member", "会员"),
    "director": ("a council member", "理事"),
    "vice_president": ("a vice-president", "副会长"),
    "president": ("the president", "会长"),
    "secretary_general": ("the secretary-general", "秘书长"),
}
