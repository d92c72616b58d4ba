"""The web workers' garbage collection (zarts/runtime.py): young objects are collected once a
response has been sent, not while a page is being made."""

from __future__ import annotations

import gc

import pytest

from zarts.runtime import MIDDLE_EVERY, collect_after_response


@pytest.fixture
def collections():
    seen = []

    def note(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


def test_a_response_is_followed_by_a_young_collection_once_it_is_sent(collections):
    body_sent = []

    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        body_sent.append(len(collections))  # collections so far, while the body is being sent
        return [b"hello"]

    app = collect_after_response(page)
    gc.disable()  # no automatic collection may blur what the wrapper does
    try:
        response = app({}, lambda *a: None)
        assert b"".join(response) == b"hello"
        assert body_sent == [0] and collections == []  # nothing collected while the page was served
        response.close()  # the server closes the response after sending it
    finally:
        gc.enable()
    assert collections == [0]


def test_every_64th_response_also_collects_the_middle_generation(collections):
    app = collect_after_response(lambda environ, start_response: [b""])
    gc.disable()
    try:
        for _ in range(MIDDLE_EVERY):
            app({}, None).close()
    finally:
        gc.enable()
    assert collections.count(1) == 1 and collections[-1] == 1
    assert collections.count(0) == MIDDLE_EVERY - 1


def test_a_garbage_cycle_a_request_left_is_gone_after_its_response(collections):
    import weakref

    class Node:
        pass

    refs = []

    def page(environ, start_response):
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        refs.append(weakref.ref(a))
        return [b"ok"]

    gc.disable()  # only the collection after the response may free it
    try:
        collect_after_response(page)({}, None).close()
    finally:
        gc.enable()
    assert refs[0]() is None
