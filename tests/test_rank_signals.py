"""Each ranking signal moves the score the way the README says: fresher is higher, an interest's weight
counts, the like-vs-dislike classifier replaces plain similarity once it is fitted, and more domains
mean more coverage. (An audit changed each of these in the code and no test failed.)

Vectors come from `TopicEmbedder` (a fake, one axis per topic word, as in test_rank.py): these tests
need exact geometry to tell one signal from another.
"""

from __future__ import annotations

from rank_helpers import T0, T1, TopicEmbedder, item, rank_stories, story

from digest.config import Interest, ProfileConfig
from digest.profile import MIN_CLASS_EXAMPLES, Feedback, build_profile
from digest.signals import coverage, freshness


def test_a_story_from_the_end_of_the_week_is_fresher_than_one_from_its_start() -> None:
    early, late = story(item("rss:e", "agent", day=0)), story(item("rss:l", "agent", day=6))
    assert freshness(late, T0, T1)[0] > freshness(early, T0, T1)[0]
    assert freshness(late, T0, T1)[1] == "new in the last days of the week"
    assert freshness(early, T0, T1) == (0.0, "")
    ranked = rank_stories([early, late])
    assert [r.story.id for r in ranked] == ["rss:l", "rss:e"]


def test_an_interests_weight_decides_between_two_matching_stories() -> None:
    stories = [story(item("rss:a", "agent")), story(item("rss:s", "safety"))]

    def first(agent: float, safety: float) -> str:
        cfg = ProfileConfig(interests=(Interest("agent", agent), Interest("safety", safety)))
        profile = build_profile(cfg, TopicEmbedder(), [], [], {})
        return rank_stories(stories, profile)[0].story.id

    assert first(3.0, 1.0) == "rss:a"
    assert first(1.0, 3.0) == "rss:s"


def test_the_likes_classifier_once_fitted_learns_what_the_dislikes_do_not_share() -> None:
    """Likes say "agent agent safety", dislikes "agent agent crypto": plain similarity to the likes
    prefers a story about agents; the classifier learns that "agent" is in both and prefers safety."""
    n = MIN_CLASS_EXAMPLES
    likes = [item(f"rss:l{k}", "agent agent safety") for k in range(n)]
    dislikes = [item(f"rss:d{k}", "agent agent crypto") for k in range(n)]
    feedback = [Feedback("dislike", d.key, T0) for d in dislikes]
    stories = [story(item("rss:a", "agent")), story(item("rss:s", "safety"))]
    cfg = ProfileConfig(interests=(Interest("vision"),))

    plain = build_profile(cfg, TopicEmbedder(), likes, [], {})
    assert plain.classifier is None
    by_sim = {r.story.id: r.components["liked"] for r in rank_stories(stories, plain)}
    assert by_sim["rss:a"] > by_sim["rss:s"]

    fitted = build_profile(cfg, TopicEmbedder(), likes, feedback, {d.key: d for d in dislikes})
    assert fitted.classifier is not None
    ranked = {r.story.id: r for r in rank_stories(stories, fitted)}
    assert ranked["rss:s"].components["liked"] > ranked["rss:a"].components["liked"]
    assert any(r.startswith("likes classifier, nearest liked") for r in ranked["rss:s"].reasons)


def test_a_second_domain_adds_coverage() -> None:
    one = story(
        item("rss:a", "agent", url="https://a.example/1"), item("rss:b", "agent", url="https://a.example/2")
    )
    two = story(
        item("rss:a", "agent", url="https://a.example/1"), item("rss:b", "agent", url="https://b.example/2")
    )
    assert coverage(two)[0] > coverage(one)[0]
    assert coverage(two)[1] == "2 sites" and coverage(one)[1] == ""


def test_a_few_likes_beside_interests_count_little_and_grow_to_full_weight() -> None:
    """Two likes on another topic once outweighed the reader's interests for the whole week (a launch
    fell from #2 to #218); z-scores made two likes as loud as two hundred."""
    stories = [story(item("rss:a", "agent")), story(item("rss:c", "crypto"))]

    def first(likes: int, interests: tuple[Interest, ...] = (Interest("agent"),)) -> str:
        liked = [item(f"rss:l{k}", "crypto") for k in range(likes)]
        profile = build_profile(ProfileConfig(interests=interests), TopicEmbedder(), liked, [], {})
        return rank_stories(stories, profile)[0].story.id

    assert first(2) == "rss:a"  # the interest leads while the likes are few
    assert first(20) == "rss:c"  # enough likes: what the reader picked outweighs what they said
    assert first(2, interests=()) == "rss:c"  # with no interests, the likes are all there is
