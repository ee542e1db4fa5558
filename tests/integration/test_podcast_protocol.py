"""docs/podcasts.md is the contract of musicd's position endpoints: its examples are replayed as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration import podcast_support
from tests.integration.podcast_support import PodcastWorld, episodes_by_title, main_show

DOC = Path(__file__).resolve().parents[2] / "docs" / "podcasts.md"
# An http block (request line, JSON body), then the next json block before another request: the answer.
EXAMPLE = re.compile(r"```http\n(?P<method>[A-Z]+) (?P<path>\S+)\n(?P<body>[^\n]*)\n```"
                     r"(?:(?!```http).)*?```json\n(?P<want>[^\n]*)\n```", re.S)

world = podcast_support.world  # the module's live server and feed server (a fixture)


def test_the_documented_examples(world: PodcastWorld) -> None:
    examples = list(EXAMPLE.finditer(DOC.read_text()))
    assert len(examples) == 3
    with world.server.client("alice") as c:
        sid = main_show(world, world.server.client("admin"))
        eid = episodes_by_title(c, sid)["First Episode"]["id"]
        for m in examples:
            path = m["path"].replace("{episode_id}", eid)
            r = c.request(m["method"], path, json=json.loads(m["body"]))
            assert r.status_code == 200, (path, r.text)
            assert r.json()["resume_point"] == json.loads(m["want"]), m.group(0)
        # The rules the page states besides its examples.
        assert c.put(f"/v1/me/episodes/{eid}/progress", json={"position_ms": -1}).json()["error"]["code"] == \
            "bad_position"
        assert c.put("/v1/me/episodes/0000000000000000000000/progress", json={"position_ms": 1}).status_code == 404
        c.put(f"/v1/me/episodes/{eid}/progress", json={"position_ms": 2000})
        assert eid in [e["id"] for e in c.get("/v1/me/episodes/in-progress").json()["items"]]
    with world.server.client("guest") as g:
        assert g.put(f"/v1/me/episodes/{eid}/progress", json={"position_ms": 1}).status_code == 403
