"""A realistic 10-story Issue for render/archive/deliver/browser tests (and `python -m digest.screenshots`).

Written by hand for these tests: long-ish titles and summaries, several sources per story, one story whose
title and summary carry script/onerror payloads, one update of an earlier week, one failed and one
fell-back source in the health footer.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

from digest.models import Issue, Item, RankedStory, SourceResult, Story
from digest.render import IssueSummary

WEEK = "2026-W06"
START = datetime(2026, 2, 2, tzinfo=timezone.utc)
END = START + timedelta(days=7)
BUILT = datetime(2026, 2, 9, 6, 30, tzinfo=timezone.utc)

# Inert only if escaped: each part would set the title or insert a marker element if it ever ran.
XSS_MARKER = "xss-marker"
XSS_TITLE = (
    "Prompt injection via RSS <script>document.title='PWNED';"
    f"document.documentElement.appendChild(document.createElement('{XSS_MARKER}'))</script>"
    "<img src=x onerror=\"document.title='PWNED';"
    f"document.body.appendChild(document.createElement('{XSS_MARKER}'))\">"
)
XSS_SUMMARY = (
    "A feed entry whose body tries to run code: <script>document.title='PWNED'</script>"
    f"<img src=x onerror=\"document.body.appendChild(document.createElement('{XSS_MARKER}'))\">"
    "<a href=\"javascript:document.title='PWNED'\" onclick=\"document.title='PWNED'\">click</a> "
    "Readers should see this as harmless text &amp; nothing else."
)

_LOREM = (
    "The authors report results on standard reasoning and coding benchmarks, release the training recipe "
    "and evaluation harness, and discuss where the gains come from: most of the improvement appears on "
    "long multi-step problems, while short factual questions barely move. Practitioners on Reddit and "
    "Hacker News debated whether the comparison baselines were tuned as carefully as the new method."
)

_STORIES: list[tuple[str, str, list[tuple[str, str, str, str]], list[str]]] = [
    (
        "Claude Opus 4.6 brings a 1M-token context window and stronger agentic coding",
        "Anthropic released Claude Opus 4.6 with a one-million-token context window in beta, better "
        "long-horizon tool use and a new effort control. " + _LOREM,
        [
            ("rss", "Anthropic", "https://www.anthropic.com/news/claude-opus-4-6", "hn:46902223"),
            ("hn", "Hacker News", "https://news.ycombinator.com/item?id=46902223", "hn:46902224"),
            (
                "reddit",
                "LocalLLaMA",
                "https://www.reddit.com/r/LocalLLaMA/comments/1qwa01x/opus_46/",
                "reddit:1",
            ),
            (
                "reddit",
                "ClaudeAI",
                "https://www.reddit.com/r/ClaudeAI/comments/1qwa02y/opus_46_first/",
                "reddit:2",
            ),
        ],
        [
            "Matches your interest “LLM agents and tool use” (0.71)",
            "On 3 sources: Anthropic, HN, Reddit",
            "306 points on Hacker News, 151 comments",
        ],
    ),
    (
        "Scaling test-time compute with verifier-guided tree search for math reasoning",
        "A study of how far verifier-guided search can push a 7B model on competition mathematics, with a "
        "careful accounting of compute per problem. " + _LOREM,
        [
            ("arxiv", "cs.LG", "https://arxiv.org/abs/2602.01234", "arxiv:2602.01234"),
            (
                "reddit",
                "MachineLearning",
                "https://www.reddit.com/r/MachineLearning/comments/1qw3/tts/",
                "reddit:3",
            ),
        ],
        [
            "Matches your interest “reasoning and reinforcement learning for LLMs” (0.66)",
            "Similar to a paper you liked: “Let’s Verify Step by Step”",
            "Code released on GitHub",
        ],
    ),
    (
        XSS_TITLE,
        XSS_SUMMARY,
        [
            ("rss", "Security Blog", "javascript:document.title='PWNED'", "rss:sec:1"),
            ("hn", "Hacker News", "https://news.ycombinator.com/item?id=46900001", "hn:46900001"),
        ],
        [
            "Matches your interest “AI safety, alignment and evaluation” (0.58)",
            "<b onmouseover=\"document.title='PWNED'\">reason with markup</b>",
        ],
    ),
    (
        "Open-weight 32B model matches frontier models on agentic benchmarks at a tenth of the cost",
        "A new Apache-2.0 licensed mixture-of-experts model with 32B active parameters and tool-calling "
        "fine-tuning, published with full weights and a technical report. " + _LOREM,
        [
            ("rss", "Hugging Face", "https://huggingface.co/blog/open-32b-agentic", "rss:hf:1"),
            (
                "reddit",
                "LocalLLaMA",
                "https://www.reddit.com/r/LocalLLaMA/comments/1qw5/open32b/",
                "reddit:5",
            ),
            ("hn", "Hacker News", "https://news.ycombinator.com/item?id=46899999", "hn:46899999"),
        ],
        [
            "Matches your interest “efficient inference and open-weight models” (0.74)",
            "1,900 upvotes on r/LocalLLaMA",
            "On 3 sources",
        ],
    ),
    (
        "Speculative decoding without a draft model: self-speculation with early-exit heads",
        "Early-exit heads trained on a frozen model act as their own draft model, giving 2.1–2.8× faster "
        "generation with identical outputs. " + _LOREM,
        [("arxiv", "cs.CL", "https://arxiv.org/abs/2602.02345", "arxiv:2602.02345")],
        ["Matches your interest “efficient inference and open-weight models” (0.69)"],
    ),
    (
        "An agent benchmark that measures whether models ask before acting",
        "Agents are scored on when they pause to ask a clarifying question rather than take an "
        "irreversible action. " + _LOREM,
        [
            ("arxiv", "cs.AI", "https://arxiv.org/abs/2602.03456", "arxiv:2602.03456"),
            ("rss", "Simon Willison", "https://simonwillison.net/2026/Feb/4/ask-before-acting/", "rss:sw:1"),
        ],
        ["Matches your interest “LLM agents and tool use” (0.64)", "Blogged by Simon Willison"],
    ),
    (
        "Reward hacking in RL-trained coding agents, and three mitigations that held up",
        "Following up on the January report, the team publishes mitigations that reduced test-tampering "
        "behaviour in coding agents by 80% without hurting pass rates. " + _LOREM,
        [
            (
                "rss",
                "Google DeepMind",
                "https://deepmind.google/blog/reward-hacking-coding-agents/",
                "rss:gdm:1",
            ),
            ("arxiv", "cs.LG", "https://arxiv.org/abs/2602.04567", "arxiv:2602.04567"),
        ],
        [
            "Update to a story from 2026-W03",
            "Matches your interest “AI safety, alignment and evaluation” (0.62)",
        ],
    ),
    (
        "Distilling long chain-of-thought into short answers loses less than expected",
        "Distillation from long reasoning traces into direct answers keeps 92% of the accuracy on GSM8K and "
        "MATH at a fifth of the tokens. " + _LOREM,
        [("arxiv", "cs.CL", "https://arxiv.org/abs/2602.05678", "arxiv:2602.05678")],
        ["Matches your interest “reasoning and reinforcement learning for LLMs” (0.61)"],
    ),
    (
        "OpenAI Frontier: an enterprise platform for deploying agents with shared context",
        "OpenAI introduced Frontier, a platform that connects company systems so agents can work with "
        "shared business context and permissions. " + _LOREM,
        [
            ("hn", "Hacker News", "https://openai.com/index/introducing-openai-frontier/", "hn:46899770"),
            ("reddit", "OpenAI", "https://www.reddit.com/r/OpenAI/comments/1qw9/frontier/", "reddit:9"),
        ],
        ["Matches your interest “LLM agents and tool use” (0.57)", "55 points on Hacker News"],
    ),
    (
        "Evaluating LLM judges: position bias persists even in the largest models",
        "Swapping the order of two candidate answers flips the verdict of LLM judges in 12–19% of pairs, "
        "and the effect does not shrink with scale. " + _LOREM,
        [("arxiv", "cs.CL", "https://arxiv.org/abs/2602.06789", "arxiv:2602.06789")],
        [
            "Matches your interest “AI safety, alignment and evaluation” (0.55)",
            "From an author you liked before",
        ],
    ),
]


def _item(source: str, feed: str, url: str, key: str, title: str, text: str, n: int) -> Item:
    return Item(
        key=key,
        source=source,
        url=url,
        title=title,
        text=text,
        published=START + timedelta(hours=7 * n + 3),
        feed=feed,
        metrics={"points": 100.0 + n} if source == "hn" else {},
    )


def sample_stories() -> tuple[RankedStory, ...]:
    out = []
    for n, (title, summary, members, reasons) in enumerate(_STORIES, 1):
        items = tuple(_item(src, feed, url, key, title, summary, n) for src, feed, url, key in members)
        story = Story(id=f"s{n}", items=items, lead=items[0], headline=title)
        update = "2026-W03" if n == 7 else None
        out.append(
            RankedStory(
                story=story, score=1.0 - n / 20, reasons=tuple(reasons), summary=summary, update_of=update
            )
        )
    return tuple(out)


def sample_health() -> tuple[SourceResult, ...]:
    return (
        SourceResult(name="arxiv", fetched=2143, new=1877, requests=5),
        SourceResult(name="reddit", fetched=200, new=164, fallback="public RSS (no Reddit credentials)"),
        SourceResult(name="hn", fetched=87, new=61),
        SourceResult(name="rss:Hugging Face", fetched=0, new=0, not_modified=True),
        SourceResult(
            name="rss:OpenAI",
            errors=("https://openai.com/news/rss.xml: HTTP 503 Service Unavailable after 3 retries",),
        ),
        SourceResult(name="rss:Simon Willison", fetched=30, new=12),
    )


def _title(week: str, lead: str) -> str:
    """A fixed title for fixture issues (the lead headline, cut at 70 characters); rendering takes any."""
    return f"digest {week}: " + (lead if len(lead) <= 70 else lead[:69].rstrip() + "…")


def sample_issue(week: str = WEEK, built_at: datetime = BUILT, stories: int = 10) -> Issue:
    from digest.weeks import week_window

    start, end = week_window(week)
    chosen = sample_stories()[:stories]
    return Issue(
        week=week,
        title=_title(week, chosen[0].story.headline if chosen else "a quiet week"),
        stories=chosen,
        health=sample_health(),
        built_at=built_at,
        start=start,
        end=end,
        item_count=2437,
        story_count=len(chosen),
    )


def summaries() -> list[IssueSummary]:
    """Three archived issues for the index and the feed: one with hostile headlines, one draft."""
    return [
        IssueSummary("2026-W05", "Week five <b>&</b>", BUILT - timedelta(days=7), 9, "2026-W05/index.html",
                     headlines=(("A <script>x</script>", "https://a.example/"), ("B", ""))),
        IssueSummary("2026-W06", "Week six", BUILT, 10, "2026-W06/index.html"),
        IssueSummary("2026-W07", "Week seven (draft)", BUILT + timedelta(days=3), 4, "2026-W07/index.html",
                     final=False),
    ]  # fmt: skip


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}

    def hrefs(self) -> list[str]:
        return [a["href"] or "" for t, a in self.tags if t == "a" and "href" in a]
