"""Issue ⇄ JSON, so a built issue can be stored, sent later and re-rendered byte for byte."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.models import Issue, Item, RankedStory, SourceResult, Story


def _item(d: dict[str, Any]) -> Item:
    return Item.from_line(d)


def story_to_dict(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "lead": story.lead.key,
        "items": [i.to_line() for i in story.items],
    }


def story_from_dict(d: dict[str, Any]) -> Story:
    items = tuple(_item(x) for x in d["items"])
    lead = next((i for i in items if i.key == d["lead"]), items[0])
    return Story(id=d["id"], items=items, lead=lead, headline=d["headline"])


def source_result_to_dict(r: SourceResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "fetched": r.fetched,
        "new": r.new,
        "errors": list(r.errors),
        "fallback": r.fallback,
        "requests": r.requests,
        "not_modified": r.not_modified,
    }


def source_result_from_dict(d: dict[str, Any]) -> SourceResult:
    return SourceResult(
        name=d["name"],
        fetched=int(d.get("fetched", 0)),
        new=int(d.get("new", 0)),
        errors=tuple(d.get("errors", ())),
        fallback=d.get("fallback", ""),
        requests=int(d.get("requests", 0)),
        not_modified=bool(d.get("not_modified", False)),
    )


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    return {
        "week": issue.week,
        "title": issue.title,
        "built_at": issue.built_at.isoformat(),
        "start": issue.start.isoformat(),
        "end": issue.end.isoformat(),
        "item_count": issue.item_count,
        "story_count": issue.story_count,
        "health": [source_result_to_dict(r) for r in issue.health],
        "stories": [
            {
                "story": story_to_dict(r.story),
                "score": r.score,
                "components": dict(r.components),
                "reasons": list(r.reasons),
                "summary": r.summary,
                "update_of": r.update_of,
                "follows": r.follows,
            }
            for r in issue.stories
        ],
    }


def issue_from_dict(d: dict[str, Any]) -> Issue:
    return Issue(
        week=d["week"],
        title=d["title"],
        built_at=datetime.fromisoformat(d["built_at"]),
        start=datetime.fromisoformat(d["start"]),
        end=datetime.fromisoformat(d["end"]),
        item_count=int(d.get("item_count", 0)),
        story_count=int(d.get("story_count", 0)),
        health=tuple(source_result_from_dict(x) for x in d.get("health", ())),
        stories=tuple(
            RankedStory(
                story=story_from_dict(s["story"]),
                score=float(s["score"]),
                components={k: float(v) for k, v in s.get("components", {}).items()},
                reasons=tuple(s.get("reasons", ())),
                summary=s.get("summary", ""),
                update_of=s.get("update_of"),
                follows=s.get("follows"),
            )
            for s in d.get("stories", ())
        ),
    )
