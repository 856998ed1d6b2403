"""The example resource over HTTP, against whatever database DATABASE_URL names."""

import pytest

from {{ cookiecutter.project_slug }}.items.models import (
    ID_MAX,
)

ITEMS = "/api/v1/items"


def create(client, **body):
    response = client.post(ITEMS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_201_with_location(client):
    response = client.post(ITEMS, json={"name": "  Widget  ", "description": "blue"})
    assert response.status_code == 201
    item = response.json()
    assert item["name"] == "Widget"
    assert item["description"] == "blue"
    assert response.headers["Location"] == f"{ITEMS}/{item['id']}"
    assert item["created_at"].endswith(("Z", "+00:00"))
    assert client.get(response.headers["Location"]).json() == item


def test_four_byte_characters_survive_the_round_trip(client):
    item = create(client, name="café ☕ 🚀")
    assert client.get(f"{ITEMS}/{item['id']}").json()["name"] == "café ☕ 🚀"


def test_list_pages_with_limit_and_offset(client):
    ids = [create(client, name=f"item {n}")["id"] for n in range(5)]
    page = client.get(ITEMS, params={"limit": 2, "offset": 1}).json()
    assert [item["id"] for item in page["items"]] == ids[1:3]
    assert (page["limit"], page["offset"], page["total"]) == (2, 1, 5)
    assert client.get(ITEMS, params={"offset": 5}).json()["items"] == []


def test_list_defaults_to_the_first_twenty(client):
    page = client.get(ITEMS).json()
    assert (page["items"], page["limit"], page["offset"], page["total"]) == ([], 20, 0, 0)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "many"},
        {"offset": 2**63},
        {"offset": "13589840520135526242582528"},
    ],
)
def test_list_refuses_out_of_bounds_paging(client, params):
    response = client.get(ITEMS, params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_list_takes_the_largest_offset_every_database_takes(client):
    page = client.get(ITEMS, params={"offset": 2**63 - 1}).json()
    assert (page["items"], page["offset"]) == ([], 2**63 - 1)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        # Checked as sent, as the document says: the blanks count before they are dropped.
        {"name": " " + "x" * 200},
        # PostgreSQL's text cannot hold NUL: refused alike on every database.
        {"name": "a\x00b"},
        {"name": "ok", "description": "x\x00"},
        {"name": "ok", "extra": 1},
    ],
)
def test_create_validates_its_input(client, body):
    assert client.post(ITEMS, json=body).status_code == 422


@pytest.mark.parametrize(
    "body",
    [b'{"name": ', b"[" * 5000 + b"]" * 5000, b'{"name": "\xff"}'],
    ids=["cut", "deep", "utf8"],
)
def test_malformed_json_is_a_client_error(client, body):
    response = client.post(ITEMS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in {400, 422}
    assert response.json()["error"]["request_id"]


def test_patch_changes_only_the_fields_sent(client):
    item = create(client, name="old", description="kept")
    response = client.patch(f"{ITEMS}/{item['id']}", json={"name": "new"})
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["description"]) == ("new", "kept")
    assert updated["updated_at"] >= item["updated_at"]


def test_patch_refuses_a_null_name(client):
    item = create(client, name="named")
    assert client.patch(f"{ITEMS}/{item['id']}", json={"name": None}).status_code == 422


def test_put_replaces_the_whole_item(client):
    item = create(client, name="old", description="dropped")
    response = client.put(f"{ITEMS}/{item['id']}", json={"name": "new"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("new", None)


def test_delete_answers_204_then_the_item_is_gone(client):
    item = create(client, name="doomed")
    response = client.delete(f"{ITEMS}/{item['id']}")
    assert response.status_code == 204
    assert response.text == ""
    assert client.get(f"{ITEMS}/{item['id']}").status_code == 404


@pytest.mark.parametrize("item_id", ["999999", str(ID_MAX)])
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_missing_items_are_404(client, method, item_id):
    kwargs = {"json": {"name": "x"}} if method in {"patch", "put"} else {}
    response = getattr(client, method)(f"{ITEMS}/{item_id}", **kwargs)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("item_id", ["0", "-1", str(ID_MAX + 1), "9" * 30, "abc"])
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_ids_no_row_can_have_are_refused(client, method, item_id):
    """Beyond the bounds the document declares (1 to ID_MAX, what every database's column
    holds): a 422 naming the parameter, never a 404 or a database error."""
    kwargs = {"json": {"name": "x"}} if method in {"patch", "put"} else {}
    response = getattr(client, method)(f"{ITEMS}/{item_id}", **kwargs)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["details"]] == ["item_id"]
