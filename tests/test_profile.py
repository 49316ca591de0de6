"""Building the profile: guards, feedback (last judgement wins), mutes, recency, classifier, authors."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from rank_helpers import T0, TopicEmbedder, item

from digest.config import Interest, ProfileConfig
from digest.errors import ConfigError
from digest.profile import MIN_CLASS_EXAMPLES, Feedback, author_key, build_profile


def test_only_negatives_is_an_error_that_says_what_is_missing() -> None:
    cfg = ProfileConfig(interests=(), negatives=(Interest("crypto"),))
    with pytest.raises(ConfigError, match=r"only negatives.*profile\.interests.*profile\.liked"):
        build_profile(cfg, TopicEmbedder(), [], [], {})
    # a dislike alone is a negative too
    bad = item("rss:1", "crypto coins")
    with pytest.raises(ConfigError, match="only negatives"):
        build_profile(
            ProfileConfig(interests=()),
            TopicEmbedder(),
            [],
            [Feedback("dislike", "rss:1", T0)],
            {"rss:1": bad},
        )


def test_interests_alone_are_enough() -> None:
    p = build_profile(ProfileConfig(interests=(Interest("agent", 2.0),)), TopicEmbedder(), [], [], {})
    assert not p.has_likes and p.interest_vecs.shape == (1, 7) and p.interest_weights.tolist() == [2.0]


def test_last_judgement_wins_and_likes_from_feedback_join_configured_likes() -> None:
    a, b = item("rss:a", "agent news"), item("rss:b", "bread news")
    fb = [
        Feedback("like", "rss:a", T0),
        Feedback("like", "rss:b", T0),
        Feedback("dislike", "rss:b", T0 + timedelta(hours=1)),  # changed their mind
    ]
    p = build_profile(ProfileConfig(interests=()), TopicEmbedder(), [], fb, {"rss:a": a, "rss:b": b})
    assert p.liked_titles == ("agent news",)
    assert len(p.disliked_vecs) == 1 and "rss:b" not in p.liked_keys


def test_mutes_become_keyword_domain_blog_feed_and_story() -> None:
    sub = item("reddit:x", "post", source="reddit", feed="memes")
    blog = item("rss:b:1", "post", source="rss", feed="Spammy Blog")
    fb = [
        Feedback("mute", "Crypto", T0),
        Feedback("mute", "https://www.spam.example/post", T0),
        Feedback("mute", "reddit:x", T0),
        Feedback("mute", "rss:b:1", T0),
    ]
    p = build_profile(
        ProfileConfig(muted_domains=("www.ads.example",)),
        TopicEmbedder(),
        [],
        fb,
        {"reddit:x": sub, "rss:b:1": blog},
    )
    assert p.mutes.keywords == ("crypto",)
    assert p.mutes.domains == ("ads.example", "spam.example")
    # one Reddit post mutes that story, not the whole subreddit; a blog post mutes its blog
    assert p.mutes.feeds == ("Spammy Blog",)
    assert {"reddit:x", "rss:b:1"} <= p.mutes.keys


def test_history_keeps_the_newest_likes_and_weights_them_most() -> None:
    likes = [item(f"rss:{k}", f"agent {k}", day=k) for k in range(5)]
    p = build_profile(ProfileConfig(interests=(), history=3), TopicEmbedder(), likes[::-1], [], {})
    assert p.liked_titles == ("agent 2", "agent 3", "agent 4")
    assert p.liked_weights[-1] > p.liked_weights[0] and abs(float(p.liked_weights.sum()) - 1) < 1e-6


def test_classifier_only_with_enough_likes_and_dislikes() -> None:
    n = MIN_CLASS_EXAMPLES
    likes = {f"rss:l{k}": item(f"rss:l{k}", f"agent {k}") for k in range(n)}
    dislikes = {f"rss:d{k}": item(f"rss:d{k}", f"bread {k}") for k in range(n)}
    fb = [Feedback("like", k, T0) for k in likes] + [Feedback("dislike", k, T0) for k in dislikes]
    p = build_profile(ProfileConfig(interests=()), TopicEmbedder(), [], fb, {**likes, **dislikes})
    assert p.classifier is not None
    w, b = p.classifier
    agent, bread = TopicEmbedder().encode(["agent", "bread"])
    assert float(agent @ w + b) > 0 > float(bread @ w + b)
    fewer = build_profile(
        ProfileConfig(interests=()), TopicEmbedder(), [], fb[: n + 1], {**likes, **dislikes}
    )
    assert fewer.classifier is None


def test_liked_paper_records_give_authors_and_categories() -> None:
    paper = item(
        "arxiv:2501.00001", "agent paper", source="arxiv", authors=("Ada Lovelace",), categories=("cs.CL",)
    )
    p = build_profile(ProfileConfig(), TopicEmbedder(), [paper], [], {})
    assert p.liked_authors == {"ada lovelace": 1} and p.liked_categories == {"cs.CL": 1}
    assert p.liked_records == (paper,) and p.title_examples == ("agent paper",)
    assert "arxiv:2501.00001" in p.liked_keys and np.isclose(np.linalg.norm(p.liked_vecs[0]), 1)


def test_author_key_survives_spellings() -> None:
    assert author_key("Jane Q. Doe") == author_key("Doe, Jane Q.") == author_key("jane q doe") == "jane q doe"


def test_title_history_keeps_more_liked_titles_than_the_embedded_history() -> None:
    likes = [item(f"rss:{k}", f"agent {k}", day=k) for k in range(5)]
    cfg = ProfileConfig(interests=(), history=2, title_history=4)
    p = build_profile(cfg, TopicEmbedder(), likes, [], {})
    assert p.liked_titles == ("agent 3", "agent 4")
    assert p.title_examples == ("agent 1", "agent 2", "agent 3", "agent 4")
    assert build_profile(ProfileConfig(title_history=0), TopicEmbedder(), likes, [], {}).title_examples == ()
