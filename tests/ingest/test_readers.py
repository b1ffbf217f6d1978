"""Readers: encodings detected, delimiters sniffed, XLSX and Parquet, unreadable files named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graph.errors import InvalidData
from ingest.readers import detect_encoding, read_file

ROWS = "enterprise_id,name\n007,华东精工机械制造有限公司\n008,惠民连锁超市有限公司\n"
BAD = Path(__file__).parents[1] / "fixtures" / "ingest" / "bad"


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                    ("gbk", "gb18030")])
def test_chinese_csv_in_each_encoding(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(ROWS.encode(encoding))
    assert detect_encoding(path) == expected
    raw = read_file(path)
    assert list(raw.frame.columns) == ["enterprise_id", "name"]
    assert raw.frame["enterprise_id"].tolist() == ["007", "008"]  # text: leading zeros kept
    assert raw.frame["name"].tolist()[1] == "惠民连锁超市有限公司"
    assert raw.rows.tolist() == [2, 3]


def test_cp1252_detected_even_when_the_first_accent_is_deep_in_the_file(tmp_path: Path) -> None:
    lines = ["supplier,amount"] + [f"SUPPLIER {i},{i}.00" for i in range(20_000)] + ["CAFÉ – NOËL LTD,9.99"]
    path = tmp_path / "w.csv"
    path.write_bytes("\n".join(lines).encode("cp1252"))
    assert path.stat().st_size > 1 << 16
    assert detect_encoding(path) == "cp1252"
    raw = read_file(path)
    assert raw.frame["supplier"].iloc[-1] == "CAFÉ – NOËL LTD"


# pyarrow decodes a skipped row as UTF-8 before calling our handler; its failure is printed, not raised
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("in_bad_row", [False, True])
def test_a_late_gbk_name_is_read_as_gbk_even_in_a_row_the_parser_skips(tmp_path: Path, in_bad_row: bool) -> None:
    """Files whose first 64 KiB are UTF-8 are read as UTF-8 at once; Arrow meets the later GBK
    bytes (in a value, or in a row with too many fields) and the file is read again as GB18030."""
    late = "E9,华东精工,1,extra" if in_bad_row else "E9,华东精工"
    lines = ["enterprise_id,name"] + [f"E{i},SUPPLIER {i}" for i in range(20_000)] + [late, "E10,惠民"]
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    raw = read_file(path)
    assert raw.encoding == "gb18030"
    assert raw.frame["name"].iloc[-1] == "惠民"
    if in_bad_row:
        assert [(b.row, b.text) for b in raw.bad_rows] == [(20_002, "E9,华东精工,1,extra")]
    else:
        assert raw.frame["name"].iloc[-2] == "华东精工"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(ROWS.replace(",", delimiter), encoding="utf-8")
    raw = read_file(path)
    assert raw.frame.shape == (2, 2)


def test_quoted_commas_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('name,amount\n"Housing, Strategy",1\n"AAC Holdings\nIncorporated",2\n', encoding="utf-8")
    raw = read_file(path)
    assert raw.frame["name"].tolist() == ["Housing, Strategy", "AAC Holdings\nIncorporated"]


def test_xlsx_and_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame({"企业编号": ["007", "008"], "企业名称": ["甲", "乙"], "注册资本": [100.5, 200.0],
                       "开户日期": pd.to_datetime(["2024-03-05", "2023-01-02"])})
    df.to_excel(tmp_path / "e.xlsx", index=False)
    pq.write_table(pa.Table.from_pandas(df), tmp_path / "e.parquet")
    for name in ("e.xlsx", "e.parquet"):
        raw = read_file(tmp_path / name)
        assert raw.frame["企业编号"].tolist() == ["007", "008"]
        assert raw.frame["注册资本"].tolist()[0] == "100.5"
        assert raw.frame["开户日期"].tolist()[0].startswith("2024-03-05")


def test_xlsx_cells_as_text_a_spreadsheet_user_typed_them(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编号", "名称", "金额", "日期", "标志", "时间", "大数"])
    sheet.append(["00123", "甲公司", 1234.5, datetime.date(2024, 1, 5), True, datetime.time(9, 30), 123456789012345])
    sheet.append([None] * 7)  # a blank row is skipped, as a CSV's empty line; the next row is row 4
    sheet.append(["00124", '=HYPERLINK("x")', 2.0, datetime.datetime(2024, 2, 1, 13, 5), False, None, "ok"])
    book.create_sheet("其他").append(["a"])
    book.save(tmp_path / "p.xlsx")
    raw = read_file(tmp_path / "p.xlsx")
    frame = raw.frame
    assert frame["编号"].tolist() == ["00123", "00124"]  # text ids keep their zeros
    assert frame.iloc[0].tolist() == ["00123", "甲公司", "1234.5", "2024-01-05 00:00:00", "True", "09:30:00",
                                      "123456789012345"]
    assert frame.iloc[1, 2:5].tolist() == ["2", "2024-02-01 13:05:00", "False"]  # a whole number without ".0"
    assert frame.iloc[1, 1] == ""  # a formula without a cached value: empty, never run
    assert raw.rows.tolist() == [2, 4]


def test_truncated_last_line_is_a_bad_row_not_a_failure() -> None:
    raw = read_file(BAD / "truncated.csv")
    assert raw.frame["enterprise_id"].tolist() == ["E1", "E2"]
    assert [b.row for b in raw.bad_rows] == [4]
    assert "expected 3" in raw.bad_rows[0].reason


@pytest.mark.parametrize(("name", "message"), [
    ("empty.csv", "empty"), ("binary.csv", "binary"), ("not_a_workbook.xlsx", "not_a_workbook.xlsx"),
    ("truncated.parquet", "truncated.parquet"), ("missing.csv", "not found"),
])
def test_unreadable_files_raise_invalid_data_naming_the_file(name: str, message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        read_file(BAD / name)


def test_wrong_declared_encoding_is_a_clear_error() -> None:
    with pytest.raises(InvalidData, match="not valid utf-8"):
        read_file(BAD / "gbk_declared_utf8.csv", encoding="utf-8")
    assert read_file(BAD / "gbk_declared_utf8.csv").frame["name"].iloc[0] == "华东精工机械制造有限公司"


def test_a_character_cut_by_the_sample_boundary_is_not_an_encoding_error(tmp_path):
    """The first 64 KiB are sniffed; a multi-byte character straddling that edge is still valid UTF-8
    (found at benchmark scale: bills.csv of a 2M-payment bundle was refused)."""
    from ingest.readers import _SAMPLE, read_file

    header = "bill_id,name\n"
    name = "宁波华盛保温材料有限公司"
    start = _SAMPLE - 8  # the name's 3rd character begins 2 bytes before the edge and is cut there
    filler = "x" * (start - len(header) - len("B0,\n") - len("B1,"))
    data = (header + f"B0,{filler}\n" + f"B1,{name}\n").encode("utf-8")
    assert data[start:start + 3].decode("utf-8") == name[0]
    path = tmp_path / "bills.csv"
    path.write_bytes(data)
    with pytest.raises(UnicodeDecodeError):  # what the old "drop the last 4 bytes" guess tripped on
        data[:_SAMPLE][:-4].decode("utf-8")
    table = read_file(path)
    assert table.frame.iloc[1].tolist()[1] == name


def test_merged_ranges_and_hidden_sheets_are_read_from_the_workbook_xml_whatever_the_chunks_and_targets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    import openpyxl

    from ingest import xlsx

    book = openpyxl.Workbook()
    book.active.title = "明细"
    book.active.append(["a", "b"])
    book.active.merge_cells("A2:A40")
    book.active.merge_cells("AB3:AC3")
    book.create_sheet("空白").sheet_state = "hidden"
    book.create_sheet("底稿").sheet_state = "veryHidden"
    path = tmp_path / "b.xlsx"
    book.save(path)
    expected = [("明细", [(1, 0, 39, 0), (2, 27, 2, 28)], False), ("空白", [], True), ("底稿", [], True)]
    assert xlsx.book_sheets(path) == expected
    monkeypatch.setattr(xlsx, "_CHUNK", 7)  # every tag cut between reads
    assert xlsx.book_sheets(path) == expected
    relative = tmp_path / "r.xlsx"  # Excel writes the sheets' targets relative to xl/
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(relative, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, data.replace(b'Target="/xl/', b'Target="') if item.filename.endswith(".rels") else data)
    assert xlsx.book_sheets(relative) == expected
    assert xlsx.book_sheets(tmp_path / "missing.xlsx") == []


def test_a_small_gb18030_file_with_four_byte_characters_is_not_taken_for_cp1252(tmp_path: Path) -> None:
    # 𫖯 (and •, beyond GBK) take four bytes in GB18030: two lone high bytes each, which a
    # three-row file's byte runs counted as cp1252's; its names were stored as mojibake
    path = tmp_path / "persons.csv"
    path.write_bytes("person_id,name,phone,aum\nP9001,王𫖯,13812345678,60000\nP9002,张伟,13912345678,70000\n"
                     "P9003,李娜,13712345678,80000\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    assert read_file(path).frame["name"].tolist() == ["王𫖯", "张伟", "李娜"]
    # Chinese headers and a name with a middle dot (bytes cp1252 has no character for)
    path.write_bytes("客户号,客户姓名,手机号\nP1,阿依古丽•买买提,13812345678\nP2,王𫖯,13912345678\n".encode("gb18030"))
    assert read_file(path).frame["客户姓名"].tolist() == ["阿依古丽•买买提", "王𫖯"]
    # names whose second byte is ASCII in GBK (赟 DA 53, 玥 AB 68), as cp1252's 'é' before a letter is
    path.write_bytes("person_id,name\nP1,张赟\nP2,李玥\nP3,王伟\n".encode("gb18030"))
    assert read_file(path).frame["name"].tolist() == ["张赟", "李玥", "王伟"]


def test_a_detected_encoding_that_fails_names_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    path.write_bytes(b"person_id,name\nP1,A\x81 B\nP2,CD EF\n")  # neither GB18030 nor cp1252
    with pytest.raises(InvalidData, match=r"not valid cp1252 text \(byte \d+\); its encoding was detected") as err:
        read_file(path)
    assert "remove `encoding`" not in str(err.value)
    with pytest.raises(InvalidData, match="remove `encoding` from the mapping"):
        read_file(path, encoding="cp1252")
