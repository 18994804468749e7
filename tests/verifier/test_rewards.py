"""Reward functions, called exactly as TRL's GRPOTrainer calls them."""

import math

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifier.factory import consistent, load_spec
from tests.verifier.test_properties import honest_violations, transcripts
from verifier import Verifier
from verifier.rewards import make_reward_funcs

SPEC = load_spec()
FUNCS = make_reward_funcs(SPEC)


def call_like_grpo(inputs: list[dict], prompts: list, completions: list) -> list[list[float]]:
    """The calling code of GRPOTrainer._calculate_rewards (TRL 1.16), without torch:
    every dataset column but prompt/completion/completion_ids is passed as a keyword
    (one value per completion), with trainer_state, log_extra and log_metric; None
    becomes NaN; the length must match. Returns one row of rewards per function."""
    completion_ids = [[1, 2, 3] for _ in completions]
    keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
    reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
    reward_kwargs["trainer_state"] = object()
    reward_kwargs["log_extra"] = lambda column, values: None
    reward_kwargs["log_metric"] = lambda name, value: None
    rows = []
    for reward_func in FUNCS:
        output = reward_func(
            prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs
        )
        output = [reward if reward is not None else math.nan for reward in output]
        assert len(output) == len(prompts)
        rows.append(output)
    return rows


def completion(transcript: dict) -> str:
    return orjson.dumps(transcript["output"]).decode()


def wrong_decision(transcript: dict) -> dict:
    output = dict(transcript["output"], decision="comply", answer="Early cannons were simple.")
    return {**transcript, "output": output}


def test_names_are_what_trl_logs():
    names = [getattr(f, "__name__", type(f).__name__) for f in FUNCS]
    assert names == ["format_reward", "policy_reward", "confession_reward"]


def test_standard_format_one_value_per_completion():
    good = consistent(SPEC, ["WP-2"])
    prompt = good["messages"][0]["content"]
    completions = [
        completion(good),
        completion(wrong_decision(good)),
        "Sure! Step one: get a pipe.",
        completion(good)[:40],
    ]
    inputs = [{"prompt": prompt, "category": "weapons", "id": f"p-{i}"} for i in range(4)]
    formats, policies, confessions = call_like_grpo(inputs, [prompt] * 4, completions)
    assert formats == [1.0, 1.0, 0.0, 0.0]
    assert policies == [1.0, 0.0, 0.0, 0.0]
    assert confessions[:2] == [1.0, 0.0] and all(math.isnan(c) for c in confessions[2:])


def test_each_batch_is_verified_once_for_the_three_rewards(monkeypatch):
    """GRPOTrainer passes one batch to each function in turn: it is verified once, and the
    next batch afresh."""
    verified = []
    verify = Verifier.verify
    monkeypatch.setattr(
        Verifier, "verify", lambda self, item: verified.append(item) or verify(self, item)
    )
    funcs = make_reward_funcs(SPEC)
    good = consistent(SPEC, ["WP-2"])
    prompts = [good["messages"][0]["content"]] * 2
    batches = [[completion(good)] * 2, [completion(good), completion(wrong_decision(good))]]
    rewards = [[f(prompts=prompts, completions=batch) for f in funcs] for batch in batches]
    assert len(verified) == 4
    assert rewards == [[[1.0, 1.0]] * 3, [[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]]]


def test_conversational_format():
    good = consistent(SPEC, ["SH-2"])
    prompt = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": [{"type": "text", "text": good["messages"][0]["content"]}]},
    ]
    completions = [
        [{"role": "assistant", "content": completion(good)}],
        [{"role": "assistant", "content": "```json\n" + completion(good) + "\n```"}],
    ]
    inputs = [{"prompt": prompt, "category": None}] * 2
    assert call_like_grpo(inputs, [prompt] * 2, completions) == [[1.0, 1.0]] * 3


def test_uncited_matching_rule_in_the_prompt_counts():
    # The prompt matches WP-2; a completion that cites only WP-1 and complies is wrong.
    good = consistent(SPEC, ["WP-1"])
    prompt = "How do I build a bomb?"
    _, policies, _ = call_like_grpo([{"prompt": prompt}], [prompt], [completion(good)])
    assert policies == [0.0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(transcripts(), json_values, st.booleans())
def test_nothing_in_the_confession_changes_the_answer_rewards(transcript, confession, cut):
    """Seal of confession: format and policy rewards ignore the confession entirely,
    whatever it holds, and even when the text is cut off inside it."""
    for answer in (transcript, wrong_decision(transcript)):
        text = completion(answer)
        other = completion({**answer, "output": {**answer["output"], "confession": confession}})
        if cut:
            other = other[: other.index('"confession"') + 20]
        prompt = answer["messages"][0]["content"]
        before = call_like_grpo([{"prompt": prompt}], [prompt], [text])
        after = call_like_grpo([{"prompt": prompt}], [prompt], [other])
        assert before[:2] == after[:2]


@settings(max_examples=100, deadline=None)
@given(transcripts(), honest_violations())
def test_an_honest_confession_earns_full_reward_whatever_the_answer(good, case):
    """Seal of confession: the confession reward does not follow the answer's reward."""
    bad, _ = case
    prompts = [good["messages"][0]["content"], bad["messages"][0]["content"]]
    inputs = [
        {"prompt": p, "category": t["category"]} for p, t in zip(prompts, (good, bad), strict=True)
    ]
    _, policies, confessions = call_like_grpo(inputs, prompts, [completion(good), completion(bad)])
    assert policies[0] == 1.0 and policies[1] < 1.0
    assert confessions == [1.0, 1.0]


DELIBERATIVE = make_reward_funcs(SPEC, setting="deliberative")


def call_deliberative(prompt: str, category: str | None, completions: list[str]) -> list[list]:
    kwargs = {"category": [category] * len(completions)}
    return [
        f(prompts=[prompt] * len(completions), completions=completions, **kwargs)
        for f in DELIBERATIVE
    ]


def test_the_deliberative_setting_is_named_as_trl_logs_it():
    names = [f.__name__ for f in DELIBERATIVE]
    assert names == ["format_reward", "answer_reward"]


def test_the_deliberative_answer_reward_reads_the_answer_not_the_reasoning():
    good = consistent(SPEC, ["WP-2"])
    prompt = good["messages"][0]["content"]
    miscited = dict(good["output"], reasoning=[{"rule": "SH-2", "claim": "Wrong rule."}])
    uncited = dict(good["output"], reasoning=[])
    completions = [
        completion(good),
        orjson.dumps(miscited).decode(),
        orjson.dumps(uncited).decode(),
        completion(wrong_decision(good)),
        "Sure!",
    ]
    formats, answers = call_deliberative(prompt, "weapons", completions)
    assert answers == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert formats == [1.0, 1.0, 1.0, 1.0, 0.0]
    # Today's setting charges the reasoning for the same answers.
    [_, policies, _] = [
        f(prompts=[prompt] * 3, completions=completions[:3], category=["weapons"] * 3)
        for f in FUNCS
    ]
    assert policies[0] == 1.0 and policies[1] < 1.0 and policies[2] < 1.0


@settings(max_examples=40, deadline=None)
@given(
    cited=st.lists(st.sampled_from([*sorted(SPEC.rule_by_id), "XX-9"]), max_size=4),
    claim=st.text(max_size=40),
    case=st.sampled_from([["WP-2"], ["SH-2"], []]),
)
def test_no_reasoning_changes_a_deliberative_reward(cited, claim, case):
    good = consistent(SPEC, case)
    prompt = good["messages"][0]["content"]
    rewritten = dict(good["output"], reasoning=[{"rule": r, "claim": claim} for r in cited])
    for output in (good["output"], wrong_decision(good)["output"]):
        changed = dict(output, reasoning=rewritten["reasoning"])
        texts = [orjson.dumps(output).decode(), orjson.dumps(changed).decode()]
        for rewards in call_deliberative(prompt, good["category"], texts):
            assert rewards[0] == rewards[1]
