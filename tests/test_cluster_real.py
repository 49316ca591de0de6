"""Clustering with the real MiniLM model, and `digest cluster` on item files."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from cluster_helpers import T0, groups, item, orthogonal

from digest.cluster import cluster, story_id
from digest.cluster_file import run_cluster_file
from digest.config import ClusterConfig, Config, EmbedConfig
from digest.embed import Embedder, embed_items, load_embedder
from digest.errors import InputError
from digest.itemfile import read_items
from digest.models import Story

DATA = Path(__file__).parent / "data" / "dedup"
CFG = ClusterConfig()


WEEK = [
    ("hn:1", "hn", "", "Claude Opus 4.6"),
    ("reddit:1", "reddit", "ClaudeAI", "Anthropic releases Claude Opus 4.6 with a 1M context window"),
    ("reddit:2", "reddit", "LocalLLaMA", "Claude Opus 4.5 vs local models: my benchmark results"),
    ("reddit:3", "reddit", "webdev", "Claude Code wrote my whole frontend and I regret it"),
    ("hn:2", "hn", "", "Claude Code for infrastructure teams"),
    ("reddit:4", "reddit", "OpenAI", "OpenAI launches Frontier, an enterprise agent platform"),
    ("x:1", "x", "sama", "Frontier is live: OpenAI's new platform for AI coworkers in the enterprise"),
    ("reddit:5", "reddit", "programming", "Why I moved my side project from Postgres to SQLite"),
    ("reddit:6", "reddit", "devops", "Kubernetes 1.35 upgrade broke our ingress"),
    ("reddit:7", "reddit", "MachineLearning", "[D] How do you organise your experiment logs?"),
    ("hn:3", "hn", "", "European Commission trials Matrix to replace Teams"),
    ("reddit:8", "reddit", "ClaudeAI", "Is Claude getting slower for anyone else today?"),
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(EmbedConfig())


@pytest.fixture(scope="module")
def week(embedder: Embedder) -> list[Story]:
    items = [item(k, t, s, f) if s != "x" else item(k, "", s, f, text=t) for k, s, f, t in WEEK]
    return cluster(items, embed_items(items, embedder), CFG)


def test_real_model_merges_one_story_across_sources(week: list[Story]) -> None:
    g = groups(week)
    assert frozenset({"hn:1", "reddit:1"}) in g
    assert frozenset({"reddit:4", "x:1"}) in g


def test_real_model_keeps_topic_neighbours_and_other_versions_apart(week: list[Story]) -> None:
    story_of = {k: s.id for s in week for k in s.item_keys}
    assert story_of["reddit:2"] != story_of["hn:1"]  # Opus 4.5 is not Opus 4.6
    assert story_of["reddit:3"] != story_of["hn:2"]  # two Claude Code posts, two stories
    assert story_of["reddit:8"] != story_of["hn:1"]
    assert len(week) == len(WEEK) - 2


def test_real_model_keeps_a_pre_release_leak_out_of_the_launch(embedder: Embedder) -> None:
    items = [item(k, t, s, f) if s != "x" else item(k, "", s, f, text=t) for k, s, f, t in WEEK]
    items.append(
        item(
            "x:leak",
            "",
            "x",
            text="Claude Opus 4.6 spotted in the Vertex AI model list, launch imminent",
            authors=("leaker",),
            published=T0 - timedelta(hours=18),
        )
    )
    vecs = embed_items(items, embedder)
    story_of = {k: s.id for s in cluster(items, vecs, CFG) for k in s.item_keys}
    assert story_of["hn:1"] == story_of["reddit:1"] != story_of["x:leak"]
    without = {k: s.id for s in cluster(items, vecs, ClusterConfig(rumour_penalty=0.0)) for k in s.item_keys}
    assert without["x:leak"] == without["hn:1"]  # the penalty is what keeps it out


# --- leads, ids, the file command ---------------------------------------------------------------


def test_lead_is_the_primary_source_and_the_id_follows_it() -> None:
    url = "https://arxiv.org/abs/2602.01234"
    items = [
        item(
            "reddit:1", "[R] thread", feed="ML", url="https://reddit.com/r/ML/1", links=(url,), published=T0
        ),
        item("x:1", "", "x", text=f"great paper {url}", published=T0 - timedelta(hours=5)),
        item("arxiv:2602.01234", "The Paper", "arxiv", "cs.LG", url=url, published=T0 + timedelta(hours=1)),
    ]
    (story,) = cluster(items, orthogonal(3), CFG)
    assert story.lead.key == "arxiv:2602.01234"
    assert story.headline == "The Paper"
    assert story.id == story_id(story.lead)
    (again,) = cluster(items[::-1], orthogonal(3), CFG)
    assert again.id == story.id
    assert set(story.links_by_source) == {"reddit", "arxiv"}

    blog = [
        item("x:2", "", "x", text="repost", links=("https://lab.example.com/blog/launch",)),
        item("rss:1", "Our launch", "rss", "Lab", url="https://lab.example.com/blog/launch"),
    ]
    (story2,) = cluster(blog, orthogonal(2), CFG)
    assert story2.lead.key == "rss:1"


def test_an_entry_that_only_links_a_story_does_not_lead_it() -> None:
    """A sponsor's blog entry that links the article of an HN post joins that story but must not become
    its headline, link and summary, however many of its own entries vouch for it."""
    article = "https://mistral.ai/news/voxtral-transcribe-2"
    hn = item(
        "hn:1",
        "Voxtral Transcribe 2",
        "hn",
        "Hacker News",
        url=article,
        links=("https://news.ycombinator.com/item?id=1",),
    )
    ads = [
        item(f"rss:Sponsor:{k}", f"SPONSORED: buy tokens {k}", "rss", "Sponsor",
             url=f"https://evil.example/ad{k}", links=(article, f"https://evil.example/ad{1 - k}"))
        for k in (0, 1)
    ]  # fmt: skip
    (story,) = cluster([hn, ads[0]], orthogonal(2), CFG)
    assert story.lead.key == "hn:1" and story.headline == "Voxtral Transcribe 2"
    (story2,) = cluster([hn, *ads], orthogonal(3), CFG)
    assert story2.lead.key == "hn:1"
    relay = item("rss:Relay:1", "Relay: the sponsor's post", "rss", "Relay", url="https://relay.example/1",
                 links=(ads[0].url,))  # fmt: skip
    (story3,) = cluster([hn, ads[0], relay], orthogonal(3), CFG)
    assert story3.lead.key == "hn:1"  # a second feed linking the sponsor does not make it the source


def test_a_paper_leads_over_a_thread_that_another_thread_links(embedder: Embedder) -> None:
    """A crosspost quotes a thread's URL; the thread joins the paper by what it says (real model), not by
    a link. Being linked to does not make the thread the primary source: the paper leads."""
    r1_url = "https://www.reddit.com/r/LocalLLaMA/comments/aaa111/kimi_k25_tech_report/"
    items = [
        item("arxiv:2602.02276", "Kimi K2.5: Visual Agentic Intelligence", "arxiv", "cs.CL",
             url="https://arxiv.org/abs/2602.02276", authors=("Kimi Team",),
             text="We introduce Kimi K2.5, an open-source multimodal agentic model trained with joint "
                  "text-vision pretraining and agent swarm reinforcement learning, achieving "
                  "state-of-the-art results on agentic benchmarks."),
        item("reddit:aaa111", "Kimi K2.5 technical report: Visual Agentic Intelligence", feed="LocalLLaMA",
             url=r1_url, published=T0 + timedelta(hours=4),
             text="Moonshot released the Kimi K2.5 technical report today: open-source multimodal agentic "
                  "model, agent swarm RL, strong agentic benchmark results."),
        item("reddit:bbb222", "Kimi K2.5 report (crosspost)", feed="singularity",
             url="https://www.reddit.com/r/singularity/comments/bbb222/kimi_k25_report/",
             published=T0 + timedelta(hours=6),
             text=f"Kimi K2.5 technical report is out, visual agentic intelligence. More at {r1_url}"),
    ]  # fmt: skip
    (story,) = cluster(items, embed_items(items, embedder), CFG)
    assert story.lead.key == "arxiv:2602.02276"


def test_among_posts_of_one_kind_the_lead_is_the_one_that_stands_for_the_rest() -> None:
    """Three Reddit threads joined by one link: the earliest ("Qwen time") is a teaser; the lead is the
    member closest to the others, so the headline names the story. Two members tie: the earliest leads."""
    url = "https://www.reddit.com/r/LocalLLaMA/comments/q{}/"
    titles = ["Qwen time", "Qwen 3 release is imminent", "Qwen 3 weights are up"]
    items = [  # each links the next, in a ring: one story whatever the vectors say, no thread linked more
        item(f"reddit:{k}", t, feed="LocalLLaMA", url=url.format(k), links=(url.format((k + 1) % 3),),
             published=T0 + timedelta(hours=k))
        for k, t in enumerate(titles)
    ]  # fmt: skip
    vecs = np.zeros((3, 64), dtype=np.float32)
    vecs[:, 0] = 1.0
    vecs[0] = np.eye(64)[5]  # the teaser is unlike the other two; the middle one is closest to both
    vecs[2, 1] = 0.5
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    (story,) = cluster(items, vecs, CFG)
    assert story.lead.key == "reddit:1" and story.headline == "Qwen 3 release is imminent"
    pair = [replace(items[1], links=(items[2].url,)), replace(items[2], links=(items[1].url,))]
    (story2,) = cluster(pair, vecs[1:], CFG)
    assert story2.lead.key == "reddit:1"  # two members tie: the earlier post


def test_run_cluster_file_writes_every_id_once(tmp_path: Path) -> None:
    out = tmp_path / "stories.jsonl"
    n = run_cluster_file(str(DATA / "week.jsonl"), str(out), Config())
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    ids = [json.loads(x)["id"] for x in (DATA / "week.jsonl").read_text().splitlines()]
    assert n == len(ids) == len(lines)
    assert [x["id"] for x in lines] == ids
    story = {x["id"]: x["story"] for x in lines}
    assert story["hn:1"] == story["rss:anthropic:1"] == story["reddit:a1"]
    assert story["arxiv:2602.01234"] == story["reddit:b2"]
    assert story["arxiv:2602.05555"] != story["arxiv:2602.01234"]
    assert story["x:9"] != story["hn:1"]  # a roundup
    assert len(set(story.values())) == 6


def test_run_cluster_file_never_reads_story_labels(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in (DATA / "week.jsonl").read_text().splitlines()]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps({**r, "story": "same"}) + "\n" for r in rows))
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_cluster_file(str(DATA / "week.jsonl"), str(a), Config())
    run_cluster_file(str(labelled), str(b), Config())
    assert a.read_text() == b.read_text()


def test_bad_item_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.jsonl: file not found"):
        read_items(str(tmp_path / "missing.jsonl"))
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "title": "x"}\n{"id": "a", "title": "y"}\n')
    with pytest.raises(InputError, match=r"dup.jsonl:2: duplicate id 'a'"):
        read_items(str(dup))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a"}\n{not json\n')
    with pytest.raises(InputError, match=r"broken.jsonl:2: not valid JSON"):
        read_items(str(broken))


def test_empty_input_gives_no_stories(tmp_path: Path) -> None:
    assert cluster([], np.zeros((0, 8), dtype=np.float32), CFG) == []
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run_cluster_file(str(empty), str(tmp_path / "out.jsonl"), Config()) == 0
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_tokens_join_names_with_versions_and_read_url_slugs() -> None:
    from digest.cluster_text import _slug_words, tokens

    for spelling in ("Claude Opus 4.6 is out", "claude opus-4.6 is out", "Claude Opus4.6 is out"):
        assert "opus_4.6" in tokens(spelling), spelling
    assert "opus_4.5" not in tokens("Claude Opus 4.6 is out")
    assert tokens("The models of the week") == ["model"]  # stop words out, plural folded
    assert _slug_words("https://news.example.com/2014/03/10/sbarro-files-for-bankruptcy-again/") == [
        "sbarro",
        "file",
        "bankruptcy",
    ]
    assert _slug_words("https://www.reddit.com/r/x/comments/1/the_post_title_again/") == []


def test_item_lines_name_a_posts_channel_by_its_categories() -> None:
    """FORMATS.md puts a post's subreddit or feed name in `categories`: two posts of r/LocalLLaMA by two
    users are one channel (the one-channel rules apply), not two authors' channels."""
    from digest.cluster import channel
    from digest.models import Item

    def line(key: str, source: str, cats: list[str], author: str, **kw: str) -> Item:
        base = {"id": key, "source": source, "url": "", "title": "t", "text": "", "authors": [author]}
        return Item.from_line({**base, "published": "2026-02-05T12:00:00+00:00", "categories": cats, **kw})

    a = line("reddit:1", "reddit", ["r/LocalLLaMA"], "u1")
    b = line("reddit:2", "reddit", ["LocalLLaMA"], "u2")
    assert a.feed == b.feed == "LocalLLaMA"
    assert channel(a) == channel(b) == "reddit:localllama"
    assert line("reddit:3", "reddit", ["LocalLLaMA"], "u3", feed="OpenAI").feed == "OpenAI"  # explicit wins
    paper = line("arxiv:2602.01234", "arxiv", ["cs.CL", "cs.LG"], "A. Author")
    assert paper.feed == "" and paper.categories == ("cs.CL", "cs.LG") and channel(paper) == "arxiv"
    # A video's category ("Science & Technology") is shared by every channel: the channel is its author.
    v1 = line("youtube:1", "youtube", ["Science & Technology"], "AI Explained")
    v2 = line("youtube:2", "youtube", ["Science & Technology"], "Fireship")
    assert v1.feed == "" and channel(v1) != channel(v2)
