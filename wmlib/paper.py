"""The paper's reported numbers (Ha & Schmidhuber, World Models, 2018), as data.

Notebooks, the README table and the temperature sweep compare against these;
keep them in one place so no number is typed twice.
"""

PARAMS = {
    "carracing": {"vae": 4_348_547, "mdnrnn": 422_368, "controller": 867},
    "doom": {"vae": 4_446_915, "mdnrnn": 1_678_785, "controller": 1_088},
}

# CarRacing-v0, mean and std over 100 trials; solved means >= 900.
CARRACING_SCORES = {
    "DQN": (343, 18),
    "A3C (continuous)": (591, 45),
    "A3C (discrete)": (652, 10),
    "best leaderboard entry at the time": (838, 11),
    "World Model, V only (C reads z)": (632, 251),
    "World Model, V only, C with a hidden layer": (788, 141),
    "World Model, full (C reads z and h)": (906, 21),
}
CARRACING_SOLVED = 900

# Doom Take Cover, agent trained only in M's dream: tau -> (dream, real), each (mean, std).
DOOM_TEMPERATURE = {
    0.10: ((2086, 140), (193, 58)),
    0.50: ((2060, 277), (196, 50)),
    1.00: ((1145, 690), (868, 511)),
    1.15: ((918, 546), (1092, 556)),
    1.30: ((732, 269), (753, 139)),
}
DOOM_RANDOM_POLICY = (210, 108)
DOOM_LEADERBOARD = (820, 58)
DOOM_SOLVED = 750
DOOM_EPISODE_CAP = 2100

# The same, by world (the paper trained only Doom in the dream, and gave no random policy for the car).
TEMPERATURE = {"doom": DOOM_TEMPERATURE}
RANDOM_POLICY = {"doom": DOOM_RANDOM_POLICY}
SOLVED = {"doom": DOOM_SOLVED, "carracing": CARRACING_SOLVED}

# How the paper trained (its text and the original code): sizes and costs.
TRAINING = {
    "random_rollouts": 10_000,          # per world, for V and M
    "population": 64, "rollouts_per_candidate": 16,
    "car_generations": 1_800,           # CarRacing solved after about this many generations
    "car_days": 46,                     # ... which took about 46 days on 64 CPU workers (original code)
    "cpu_workers": 64,
    "doom_dream_generation_seconds": 116,
    "doom_m_epochs": 400, "doom_seq_len": 500,
    "car_m_steps": 4_000, "car_m_batch": 100, "car_m_seq_len": 999,
    "vae_batch": 100, "vae_lr": 1e-4, "m_lr": 1e-3,
}

# What each world's whole pipeline cost the paper, in words (the results table's wall-time row).
COST = {
    "doom": f"~{TRAINING['doom_dream_generation_seconds']} s per dream generation on {TRAINING['cpu_workers']} "
            "CPU workers",
    "carracing": f"~{TRAINING['car_days']} days on {TRAINING['cpu_workers']} CPU workers for C",
}

# The paper's full agent in each world, beside the shipped one: (which score, (mean, std), when it is solved).
FULL_AGENT = {
    "doom": ("tau 1.15, real game", DOOM_TEMPERATURE[1.15][1], f"solved above {DOOM_SOLVED}"),
    "carracing": ("full agent", CARRACING_SCORES["World Model, full (C reads z and h)"],
                  f"solved at {CARRACING_SOLVED}"),
}


__all__ = ["PARAMS", "CARRACING_SCORES", "CARRACING_SOLVED", "DOOM_TEMPERATURE", "DOOM_RANDOM_POLICY",
           "DOOM_LEADERBOARD", "DOOM_SOLVED", "DOOM_EPISODE_CAP", "TRAINING", "COST", "FULL_AGENT"]
