"""Programmatic explore/exploit policies over the skill forest: handwritten, random and bandit.

A policy looks at the forest (structure, quotas, accuracy history, its own statistics stored on
the nodes) and returns one :class:`SkillAction` per root skill, each with a reason. Quotas are
per iteration: how many examples to write for a (sub)skill *this* step.

The bandit follows the Self-Evolving-Curriculum idea (dataenvgym.md §6): leaves are arms, the
reward is learning progress (the change in the parent skill's validation accuracy after the
arm received data), smoothed with an exponential moving average (TD(0) without bootstrapping),
plus a UCB bonus so untried arms get data; it explores new subskills when no arm is learning.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Protocol

from teachgraph.skills import SkillForest
from teachgraph.state import SkillAction


class Policy(Protocol):
    """Decides this iteration's action per root skill."""

    def __call__(
        self, forest: SkillForest, *, iteration: int, budget: int, explore_n: int, max_leaves: int, with_state: bool
    ) -> list[SkillAction]: ...


def split_budget(weights: dict[str, float], total: int) -> dict[str, int]:
    """Integer shares of ``total`` proportional to ``weights`` (largest remainder; sums to total)."""
    if not weights or total <= 0:
        return dict.fromkeys(weights, 0)
    norm = sum(max(w, 0.0) for w in weights.values())
    if norm <= 0:
        weights, norm = dict.fromkeys(weights, 1.0), float(len(weights))
    raw = {k: total * max(w, 0.0) / norm for k, w in weights.items()}
    shares = {k: math.floor(v) for k, v in raw.items()}
    left = total - sum(shares.values())
    for k in sorted(raw, key=lambda k: (raw[k] - shares[k], k), reverse=True)[:left]:
        shares[k] += 1
    return shares


def root_budgets(forest: SkillForest, budget: int, *, with_state: bool) -> dict[str, int]:
    """Spread the iteration budget over root skills: by error rate when the student's state is
    known (weaker skills get more), halved for each evaluation in a row at which the skill's
    validation accuracy fell (:func:`falls_in_a_row`); evenly without state.

    The halving is learning progress read from the state: measured, LCM fell from 23% to 10% on
    the test while the teacher kept feeding it (its generator's pairs were mostly coprime, the
    task's mostly share a factor), where data from the task's own generator left it unchanged.
    """
    roots = forest.roots()
    if not with_state:
        return split_budget(dict.fromkeys(roots, 1.0), budget)
    weights = {}
    for r in roots:
        acc = forest.latest_accuracy(r)
        weight = (1.0 - acc if acc is not None else 0.5) + 0.1  # floor: no skill starves
        weights[r] = weight * 0.5 ** falls_in_a_row(forest, r)
    return split_budget(weights, budget)


def falls_in_a_row(forest: SkillForest, path: str) -> int:
    """How many of the latest validation measurements of ``path`` in a row fell below the one
    before by more than its standard error (a drop within noise is not a fall)."""
    history = [p for p in forest.node(path).accuracy_history if p.split == "validation"]
    falls = 0
    for before, after in reversed(list(itertools.pairwise(history))):
        noise = math.sqrt(before.value * (1 - before.value) / before.n) if before.n else 0.0
        if after.value >= before.value - noise:
            break
        falls += 1
    return falls


def working_leaves(forest: SkillForest, root: str) -> list[str]:
    """The (sub)skills data is written for under ``root``: its leaves, or the root itself."""
    return [leaf for leaf in forest.leaves(under=root) if leaf != root] or [root]


def _explore(forest: SkillForest, root: str, share: int, n: int, reason: str) -> SkillAction:
    quota = max(share // n, 1)
    # The share goes to the new subskills; existing ones pause this round.
    quotas = {leaf: 0 for leaf in working_leaves(forest, root)}
    return SkillAction(skill=root, kind="explore", reason=reason, num_new=n, new_quota=quota, quotas=quotas)


def alternating_policy(
    forest: SkillForest, *, iteration: int, budget: int, explore_n: int, max_leaves: int, with_state: bool
) -> list[SkillAction]:
    """DataEnvGym's handwritten policy, without its idle steps: explore on even iterations
    (while there is room), otherwise rebalance the budget evenly over the existing subskills."""
    actions = []
    for root, share in root_budgets(forest, budget, with_state=with_state).items():
        leaves = working_leaves(forest, root)
        has_room = len(forest.children(root)) + explore_n <= max_leaves
        if (not forest.children(root) or iteration % 2 == 0) and has_room:
            actions.append(_explore(forest, root, share, explore_n, f"iteration {iteration}: scheduled explore"))
        else:
            quotas = split_budget(dict.fromkeys(leaves, 1.0), share)
            actions.append(
                SkillAction(
                    skill=root, kind="exploit", reason=f"iteration {iteration}: scheduled even rebalance", quotas=quotas
                )
            )
    return actions


def make_random_policy(seed: int) -> Policy:
    """Explore or exploit at random, with random quotas: the baseline a policy must beat."""

    def random_policy(
        forest: SkillForest, *, iteration: int, budget: int, explore_n: int, max_leaves: int, with_state: bool
    ) -> list[SkillAction]:
        rng = random.Random(f"{seed}-{iteration}")
        actions = []
        for root, share in root_budgets(forest, budget, with_state=False).items():
            has_room = len(forest.children(root)) + explore_n <= max_leaves
            if has_room and (not forest.children(root) or rng.random() < 0.5):
                actions.append(_explore(forest, root, share, explore_n, "random choice: explore"))
            else:
                leaves = working_leaves(forest, root)
                quotas = split_budget({leaf: rng.random() for leaf in leaves}, share)
                actions.append(SkillAction(skill=root, kind="exploit", reason="random choice: exploit", quotas=quotas))
        return actions

    return random_policy


def make_bandit_policy(
    alpha: float = 0.5, ucb: float = 0.05, temperature: float = 0.05, headroom_weight: float = 0.03
) -> Policy:
    """Learning-progress bandit over leaves (SEC-style EMA reward + UCB bonus + a bonus for the
    headroom the difficulty probe measured: 1 - accuracy on the leaf's generated data)."""

    def bandit_policy(
        forest: SkillForest, *, iteration: int, budget: int, explore_n: int, max_leaves: int, with_state: bool
    ) -> list[SkillAction]:
        actions = []
        for root, share in root_budgets(forest, budget, with_state=with_state).items():
            history = [p for p in forest.node(root).accuracy_history if p.split == "validation"]
            progress = history[-1].value - history[-2].value if len(history) >= 2 else None
            leaves = working_leaves(forest, root)
            # Credit last round's learning progress to the arms that received data last round.
            for leaf in leaves:
                stats = dict(forest.node(leaf).policy)
                if (
                    progress is not None
                    and forest.node(leaf).generated_last > 0
                    and stats.get("updated_at", -1) < iteration
                ):
                    stats["value"] = alpha * progress + (1 - alpha) * stats.get("value", 0.0)
                    stats["pulls"] = stats.get("pulls", 0.0) + 1
                    stats["updated_at"] = float(iteration)
                    forest.update(leaf, policy=stats)
            values = {leaf: forest.node(leaf).policy.get("value", 0.0) for leaf in leaves}
            pulls = {leaf: forest.node(leaf).policy.get("pulls", 0.0) for leaf in leaves}
            has_room = len(forest.children(root)) + explore_n <= max_leaves
            all_tried = all(p > 0 for p in pulls.values())
            stalled = all_tried and max(values.values()) <= 0.0
            if has_room and (not forest.children(root) or stalled):
                why = (
                    "no subskills yet"
                    if not forest.children(root)
                    else (f"every subskill tried and none is improving (best value {max(values.values()):+.3f})")
                )
                actions.append(_explore(forest, root, share, explore_n, f"explore: {why}"))
                continue
            total = sum(pulls.values()) + 1
            # Headroom from the difficulty probe (program engine): a subskill whose generated
            # questions the student already solves has less to teach than one it fails.
            measured = {leaf: forest.latest_accuracy(leaf, "generated") for leaf in leaves}
            headroom = {leaf: 0.5 if acc is None else 1.0 - acc for leaf, acc in measured.items()}
            scores = {
                leaf: values[leaf]
                + ucb * math.sqrt(math.log(total + 1) / (pulls[leaf] + 1))
                + headroom_weight * headroom[leaf]
                for leaf in leaves
            }
            top = max(scores.values())
            weights = {leaf: math.exp((s - top) / temperature) for leaf, s in scores.items()}
            quotas = split_budget(weights, share)
            best = max(scores, key=lambda k: scores[k])
            actions.append(
                SkillAction(
                    skill=root,
                    kind="exploit",
                    reason=f"exploit: most data to {best!r} (value {values[best]:+.3f}, pulls {int(pulls[best])})",
                    quotas=quotas,
                )
            )
        return actions

    return bandit_policy
