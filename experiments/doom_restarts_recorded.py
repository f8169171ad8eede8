"""What choosing among several CMA-ES runs by real validation games would have given, on runs already measured.

The history table *which_c* records, for CMA-ES seeds of one round-1 dream, the C each run's validation
games chose: its mean over the 20 validation games and over the 100 test games. Given N of those runs, the
restarts lever (``iterate.restarts``) keeps the one with the best validation mean; this averages its test
mean over every choice of N runs among the recorded seeds (the numbers of *restarts*, facts ``recorded``).

    python experiments/doom_restarts_recorded.py
"""
from itertools import combinations
from statistics import mean

from wmlib.book.history import load

# which_c's rows of one dream, by the start of their run's name
GROUPS = {"tau 1.15, round 1's M": ("the default's round", "CMA-ES seed"),
          "worse of both Ms' dreams": ("worse of both Ms",)}


def chosen(row: dict) -> tuple[float, float]:
    """(validation mean, test mean) of the C the run's validation games chose."""
    which = row["chosen"].split(":")[0] if isinstance(row["chosen"], str) else "deployed"  # a dict: one C only
    cell = row[which]
    return cell["validation"], cell["test"]["mean"]


def recorded_runs() -> dict[str, list[tuple[float, float]]]:
    rows = load("doom", "which_c")["rows"]
    return {name: [chosen(r) for r in rows if r["run"].startswith(starts)] for name, starts in GROUPS.items()}


def chosen_test_mean(runs, n: int) -> float:
    """Mean test score of the best-validated run, over every set of ``n`` runs."""
    return mean(max(group)[1] for group in combinations(runs, n))


def main():
    for name, runs in recorded_runs().items():
        by_val = sorted(range(len(runs)), key=lambda i: -runs[i][0])
        by_test = sorted(range(len(runs)), key=lambda i: -runs[i][1])
        print(f"{name} ({len(runs)} seeds): validation order {'==' if by_val == by_test else '!='} test order")
        for n in range(1, len(runs) + 1):
            print(f"  {n} run(s), the best-validated kept: test mean {chosen_test_mean(runs, n):.1f}")


if __name__ == "__main__":
    main()
