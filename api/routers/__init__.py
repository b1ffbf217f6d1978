"""One router per area of the API; each is thin and renders through `api.present`."""
