"""The main navigation of templates/base.html: Search for every signed-in user."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def main_nav(html: str) -> str:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert found, "no main navigation on the page"
    return found.group(1)


def search_link(html: str) -> str:
    links = [a for a in re.findall(r"<a [^>]*>[^<]*</a>", main_nav(html)) if 'href="/cases/search/"' in a]
    assert len(links) == 1, links
    return links[0]


@pytest.mark.parametrize("role", ["agent", "lead", "cx_admin", "outsider"])
def test_every_signed_in_user_has_search_in_the_nav_current_only_on_the_search_page(client, request, role):
    client.force_login(request.getfixturevalue(role))
    for url in ("/cases/queue/mine/", "/cases/queue/team/"):
        link = search_link(client.get(url).content.decode())
        assert link.endswith(">Search</a>") and "aria-current" not in link
    link = search_link(client.get("/cases/search/", {"q": "nobody"}).content.decode())
    assert 'aria-current="page"' in link
    # The queue links are not current on the search page.
    assert main_nav(client.get("/cases/search/").content.decode()).count("aria-current") == 1


def test_a_case_page_has_search_in_the_nav(client, make_case, agent):
    case = make_case()
    client.force_login(agent)
    assert "aria-current" not in search_link(client.get(f"/cases/{case.pk}/").content.decode())


def test_the_login_page_has_no_main_nav(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'aria-label="Main"' not in html and 'href="/cases/search/"' not in html
