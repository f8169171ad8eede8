"""What choosing among several CMA-ES runs by real validation games would have given, on runs already measured.

The README's "Which C?" table records, for CMA-ES seeds of one round-1 dream, the C each run's validation
games chose: its mean over the 20 validation games and over the 100 test games. Given N of those runs, the
restarts lever (``iterate.restarts``) keeps the one with the best validation mean; this averages its test
mean over every choice of N runs among the recorded seeds.

    python experiments/doom_restarts_recorded.py
"""
from itertools import combinations
from statistics import mean

# (validation mean of the run's chosen C, its test mean), per CMA-ES seed; README "Which C?"
RECORDED = {
    "tau 1.15, round 1's M (seeds +0..+4)": [(431.9, 421.4), (348.6, 295.9), (640.6, 663.9), (179.7, 172.2),
                                             (291.8, 277.7)],
    "worse of both Ms' dreams (seeds +0..+2)": [(768.0, 763.8), (179.7, 172.2), (308.6, 253.2)],
}


def chosen_test_mean(runs, n: int) -> float:
    """Mean test score of the best-validated run, over every set of ``n`` runs."""
    return mean(max(group)[1] for group in combinations(runs, n))


def main():
    for name, runs in RECORDED.items():
        by_val = sorted(range(len(runs)), key=lambda i: -runs[i][0])
        by_test = sorted(range(len(runs)), key=lambda i: -runs[i][1])
        print(f"{name}: validation order {'==' if by_val == by_test else '!='} test order")
        for n in range(1, len(runs) + 1):
            print(f"  {n} run(s), the best-validated kept: test mean {chosen_test_mean(runs, n):.1f}")


if __name__ == "__main__":
    main()
