"""Calls are named by what they did, never by their raw JSON input."""

import json

from sessionlens.services.render.tools import call_name, todo_items

CWD = "/home/u/projects/spotter"


def test_names_of_common_tools():
    assert (
        call_name("Read", text=json.dumps({"file_path": f"{CWD}/lib/spotter/transcripts.ex"}), cwd=CWD) == "Read lib/spotter/transcripts.ex"
    )
    assert call_name("Glob", text=json.dumps({"pattern": "priv/repo/migrations/*.exs"}), cwd=CWD) == "Glob priv/repo/migrations/*.exs"
    assert call_name("Grep", text=json.dumps({"pattern": "def foo", "path": f"{CWD}/lib"}), cwd=CWD) == "Grep def foo in lib"
    todos = {"todos": [{"content": f"t{i}", "status": "completed" if i < 3 else "pending"} for i in range(5)]}
    assert call_name("TodoWrite", text=json.dumps(todos)) == "TodoWrite: 3 of 5 done"
    assert call_name("Bash", command="mix test", extra={"description": "Run tests"}) == "Bash: mix test"
    long = "cd x && " + "a" * 80
    assert call_name("Bash", command=long, extra={"description": "Run the suite"}) == "Bash: Run the suite"
    assert call_name("Edit", files=[f"{CWD}/lib/a.ex"], kind="patch", cwd=CWD) == "Edit lib/a.ex"
    assert (
        call_name("update_plan", text=json.dumps({"plan": [{"step": "a", "status": "completed"}, {"step": "b", "status": "in_progress"}]}))
        == "update_plan: 1 of 2 done · b"
    )


def test_cut_or_odd_inputs_never_show_json():
    cut = '{"file_path": "/w/very/long.py", "content": "' + "x" * 100  # clipped JSON
    assert call_name("Write", text=cut) == "Write /w/very/long.py"
    assert call_name("Mystery", text=json.dumps({"n": 1, "flag": True})) == "Mystery (2 arguments)"
    assert call_name("Mystery", text='{"a": [1, 2, {"b"') == "Mystery"
    assert call_name(None, text=json.dumps({"query": "hex.pm phoenix"})) == "tool hex.pm phoenix"


def test_todo_items_statuses():
    items = todo_items(
        "TodoWrite",
        {
            "todos": [
                {"content": "a", "status": "completed"},
                {"content": "b", "status": "in_progress"},
                {"content": "c", "status": "pending"},
                "junk",
            ]
        },
    )
    assert [(t.text, t.status, t.done) for t in items] == [("a", "completed", True), ("b", "in_progress", False), ("c", "pending", False)]
    assert todo_items("Read", {"todos": []}) is None


def test_api_errors_are_named_by_their_message():
    from sessionlens.services.render.tools import error_name

    body = '400 {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens"}}'
    assert error_name(body) == "400 invalid_request_error: prompt is too long: 210000 tokens"
    cut = '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded'  # cut JSON
    assert error_name(cut) == "529 overloaded_error: Overloaded"
    assert error_name("stream disconnected") == "stream disconnected"
