"""M: an LSTM whose output is a Gaussian mixture over the next latent code.

V compresses space (a frame -> z); M compresses time. Given the code z_t and
the action a_t, M predicts a probability distribution over z_{t+1}: for EACH
latent dimension separately a mixture of K Gaussians (the mixture weights are
not shared across dimensions, as in the paper). Doom's M also reads a restart
flag (1 on the first step of an episode) and predicts a "done" logit: the
chance the episode ends after this action. With ``reward_head`` (beyond the
paper: the car's dream) M also predicts the reward of the step, so a dream can
pay C what the game would; ``reward_loss`` is its (optionally pessimistic) loss.

Shapes: z [B, T, z], a [B, T, A], restart [B, T]; the mixture parts are
[B, T, z, K]. The LSTM state is ``(h, c)``, each [1, B, hidden] (torch's
convention). A restart also zeroes the state entering that step, so a stream
of concatenated episodes never leaks memory from one episode into the next.

The LSTM has ONE bias vector (as in TensorFlow, and the paper's counts):
torch's ``nn.LSTM`` has two, so we use ``nn.LSTM(bias=False)`` and append a
constant-1 column to the input; its weight column is the bias. Counts:
CarRacing 422,368, Doom 1,678,785.

Temperature tau (used when M dreams): the mixture logits are divided by tau
and each Gaussian's variance is scaled by tau (std by sqrt(tau)). tau -> 0
gives the most likely component's mean; large tau flattens the choice of
component and widens each one, making the dream more surprising.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import torch
from torch import nn

MixtureOut = namedtuple("MixtureOut", ["logpi", "mu", "logsigma"])
MixtureOut.__doc__ = "Per-dimension mixture: log weights, means, log std devs, each [..., z, K]."

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# ----------------------------------------------------------------------------- mixture maths

def mixture_nll(logpi, mu, logsigma, target):
    """Negative log-likelihood of ``target`` [..., z] under each dimension's mixture -> [..., z].

    -log sum_k pi_k N(x; mu_k, sigma_k^2), computed with logsumexp for stability.
    """
    x = target.unsqueeze(-1)
    log_normal = -0.5 * ((x - mu) * torch.exp(-logsigma)) ** 2 - logsigma - _LOG_SQRT_2PI
    return -torch.logsumexp(logpi + log_normal, dim=-1)


def done_nll(logit, done, pos_weight: float = 1.0):
    """The done head's loss per step: -(w * y * log p + (1 - y) * log(1 - p)), p = sigmoid(logit).

    ``done`` (y) is 1 where the episode ended after this step; ``pos_weight`` (w) is the weight M
    was trained with on deaths (``mdnrnn.done_pos_weight``), so this is M's own loss term.
    """
    done = torch.as_tensor(done, dtype=logit.dtype, device=logit.device)
    weight = torch.tensor(float(pos_weight), dtype=logit.dtype, device=logit.device)
    return nn.functional.binary_cross_entropy_with_logits(logit, done, reduction="none", pos_weight=weight)


def temper(logpi, logsigma, tau):
    """The mixture at temperature tau: (log weights softmax(logpi / tau), logsigma + log(tau) / 2).

    ``tau`` is a float or a tensor broadcastable to ``logpi.shape[:-1]``; it must be > 0
    here (``sample_mixture`` handles tau = 0 itself).
    """
    tau = torch.as_tensor(tau, dtype=logpi.dtype, device=logpi.device).unsqueeze(-1)
    return torch.log_softmax(logpi / tau, dim=-1), logsigma + 0.5 * torch.log(tau)


def mixture_mean_var(logpi, mu, logsigma):
    """Analytic mean and variance of each dimension's mixture -> ([..., z], [..., z])."""
    pi = logpi.exp()
    mean = (pi * mu).sum(-1)
    second = (pi * (mu ** 2 + torch.exp(2 * logsigma))).sum(-1)
    return mean, second - mean ** 2


def sample_mixture(logpi, mu, logsigma, tau=1.0, generator=None):
    """Draw z [..., z] from the per-dimension mixtures at temperature ``tau``.

    Pick a component with the Gumbel-max trick on ``logpi / tau``, then add
    Gaussian noise with std ``sigma_k * sqrt(tau)``. ``tau`` may be a float or a
    tensor broadcastable to ``logpi.shape[:-1]``; tau = 0 returns the most
    likely component's mean (no noise at all). Pure tensor ops: any device, any batch.
    """
    tau = torch.as_tensor(tau, dtype=logpi.dtype, device=logpi.device)
    if bool((tau < 0).any()):
        raise ValueError(f"temperature must be >= 0, got {tau.min().item()}")
    tau = tau.unsqueeze(-1)
    # Dividing by a tiny positive tau makes the logits' gaps dwarf the Gumbel noise:
    # the argmax component wins, which is the tau -> 0 limit.
    logits = logpi / tau.clamp_min(1e-6)
    u = torch.rand(logpi.shape, dtype=logpi.dtype, device=logpi.device, generator=generator)
    gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
    k = torch.argmax(logits + gumbel, dim=-1, keepdim=True)
    mean = torch.gather(mu, -1, k).squeeze(-1)
    std = torch.gather(logsigma, -1, k).squeeze(-1).exp() * tau.squeeze(-1).sqrt()
    eps = torch.randn(mean.shape, dtype=mean.dtype, device=mean.device, generator=generator)
    return mean + std * eps


def mixture_density(logpi, mu, logsigma, x, tau=1.0):
    """Density of one mixture [K] (or [..., K]) at the points ``x`` [N] at temperature tau -> [..., N]."""
    lp, ls = temper(logpi, logsigma, tau)
    x = torch.as_tensor(x, dtype=mu.dtype, device=mu.device)
    log_normal = (-0.5 * ((x.unsqueeze(-1) - mu.unsqueeze(-2)) * torch.exp(-ls.unsqueeze(-2))) ** 2
                  - ls.unsqueeze(-2) - _LOG_SQRT_2PI)
    return torch.logsumexp(lp.unsqueeze(-2) + log_normal, dim=-1).exp()


# ----------------------------------------------------------------------------- reward maths

def reward_loss(pred, target, pessimism: float = 1.0):
    """Per-step loss of a predicted reward: squared error, over-prediction weighted ``pessimism`` times.

    ``(pred - target)^2``, times ``pessimism`` where ``pred > target``. With 1 it is plain squared
    error, whose minimiser is the mean reward: a dream's return is then the expected return. With
    k > 1 the minimiser is the 1 / (1 + k) expectile, below the mean: M pays in its dream only the
    reward it is fairly sure of, so a C that chases a reward M merely hopes for gains less. Squared,
    not Huber: the sum of predicted rewards should be the expected return, and Huber's minimiser sits
    between the mean and the median.
    """
    if not pessimism >= 1:
        raise ValueError(f"reward pessimism must be >= 1 (got {pessimism}): 1 is plain squared error, "
                         "k > 1 makes over-predicting cost k times as much as under-predicting")
    err = pred - target
    weight = torch.where(err > 0, torch.as_tensor(float(pessimism), dtype=err.dtype, device=err.device),
                         torch.ones((), dtype=err.dtype, device=err.device))
    return weight * err ** 2


# ----------------------------------------------------------------------------- the model

DOOM_ACTION_THRESHOLD = 1 / 3  # the game's wrapper: a < -1/3 is left, a > 1/3 is right, else stay


def doom_action_levels(a: torch.Tensor) -> torch.Tensor:
    """Doom's continuous action -> the level the game plays: -1 (left), 0 (stay) or +1 (right)."""
    return (a > DOOM_ACTION_THRESHOLD).to(a.dtype) - (a < -DOOM_ACTION_THRESHOLD).to(a.dtype)


def action_shares(actions) -> dict:
    """The share of left / stay / right among Doom actions, as the game plays them."""
    levels = doom_action_levels(torch.as_tensor(np.asarray(actions, np.float32).reshape(-1))).numpy()
    return dict(left=float(np.mean(levels < 0)), stay=float(np.mean(levels == 0)), right=float(np.mean(levels > 0)))


class MDNRNN(nn.Module):
    """LSTM + per-dimension mixture density head (+ a done logit when ``done_head``, + a reward when
    ``reward_head``).

    ``done_head=True`` (Doom) also adds the restart flag to the input: [z, a, restart].
    Without it (CarRacing) the input is [z, a].
    ``reward_head=True``: a linear read-out of the LSTM output predicting the reward of the step
    (the one after action a_t, read from the same output as the done logit). It changes nothing
    else: the other heads and the LSTM are built (and initialised) as without it.
    ``dropout``: the chance each LSTM output unit is zeroed before the heads, in training
    mode only (a training setting, not part of ``arch()``; ``run_epoch`` sets it from the config).
    """

    def __init__(self, z_size: int, action_size: int, hidden: int, n_mixtures: int = 5,
                 done_head: bool = False, discrete_actions: bool = False, dropout: float = 0.0,
                 reward_head: bool = False):
        super().__init__()
        if not 0 <= dropout < 1:
            raise ValueError(f"M's dropout is a probability in [0, 1), got {dropout}: set mdnrnn.dropout=0.1, say")
        self.dropout = float(dropout)
        if discrete_actions and action_size != 1:
            raise ValueError("discrete_actions is for Doom's one action (left / stay / right); "
                             f"this M reads {action_size} actions: set mdnrnn.discrete_actions=False")
        if min(z_size, action_size, hidden, n_mixtures) < 1:
            raise ValueError(f"MDNRNN sizes must be positive: z_size={z_size}, action_size={action_size}, "
                             f"hidden={hidden}, n_mixtures={n_mixtures}")
        self.z_size, self.action_size, self.hidden = z_size, action_size, hidden
        self.n_mixtures, self.has_done = n_mixtures, bool(done_head)
        self.discrete_actions = bool(discrete_actions)
        self.input_size = z_size + action_size + (1 if done_head else 0)
        # One bias vector: no torch biases, and a constant-1 input column whose weights act as the bias.
        self.lstm = nn.LSTM(self.input_size + 1, hidden, bias=False, batch_first=True)
        with torch.no_grad():  # TensorFlow's forget_bias=1: remember by default at the start of training
            self.lstm.weight_ih_l0[hidden:2 * hidden, -1].fill_(1.0)
        self.mdn = nn.Linear(hidden, 3 * n_mixtures * z_size)
        self.done = nn.Linear(hidden, 1) if done_head else None
        self.has_reward = bool(reward_head)  # made last: M without it draws the same initial weights
        self.reward = nn.Linear(hidden, 1) if reward_head else None

    def initial_state(self, batch: int, device=None, dtype=torch.float32):
        """Zero (h, c), each [1, batch, hidden]."""
        zeros = torch.zeros(1, batch, self.hidden, device=device, dtype=dtype)
        return zeros, zeros.clone()

    def _inputs(self, z, a, restart):
        a = a.to(z.dtype)
        if self.discrete_actions:  # what the game does with the action: every step of C, dream or real, agrees
            a = doom_action_levels(a)
        parts = [z, a]
        if self.has_done:
            flag = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device) if restart is None else restart
            parts.append(flag.to(z.dtype).unsqueeze(-1))
        parts.append(torch.ones(*z.shape[:-1], 1, dtype=z.dtype, device=z.device))
        return torch.cat(parts, dim=-1)

    def _run_lstm(self, x, state, restart):
        """The LSTM over [B, T, .], zeroing each row's state where its episode restarts."""
        if restart is None:
            return self.lstm(x, state)
        keep = (1 - restart.to(x.dtype)).transpose(0, 1).unsqueeze(-1)  # [T, B, 1]
        if state is None:
            state = self.initial_state(x.shape[0], x.device, x.dtype)
        state = tuple(s * keep[0].to(s.dtype) for s in state)
        if x.shape[1] == 1:  # one step (dreams, rollouts): no host sync, pure tensor ops
            return self.lstm(x, state)
        # Restarts inside the sequence: run the fast kernel segment by segment, resetting in between.
        cuts = torch.nonzero((restart[:, 1:] > 0).any(0)).flatten().add(1).tolist()
        outs, start = [], 0
        for stop in cuts + [x.shape[1]]:
            if start > 0:
                state = tuple(s * keep[start].to(s.dtype) for s in state)
            out, state = self.lstm(x[:, start:stop], state)
            outs.append(out)
            start = stop
        return torch.cat(outs, dim=1), state

    def heads(self, h):
        """Hidden states [..., hidden] -> (MixtureOut [..., z, K], done logit [...] or None)."""
        out = self.mdn(h).unflatten(-1, (3, self.z_size, self.n_mixtures))
        logits, mu, logsigma = out.unbind(-3)
        mix = MixtureOut(torch.log_softmax(logits, dim=-1), mu, logsigma)
        done = self.done(h).squeeze(-1) if self.has_done else None
        return mix, done

    def predict_reward(self, h):
        """The reward M expects for the step whose LSTM output is ``h`` [..., hidden] -> [...].

        In a dream, ``h`` is the new state's h that ``step`` returns (``state[0][0]``): at one step
        and in eval mode it is the LSTM output the heads read."""
        if self.reward is None:
            raise ValueError("this M has no reward head: train one with mdnrnn.reward_head=true "
                             "(e.g. --recipe experiments/recipes/carracing-dream.toml)")
        return self.reward(h).squeeze(-1)

    def features(self, z, a, state=None, restart=None, steps=None):
        """What the heads read: the LSTM outputs h [B,T,hidden] (or [N,hidden] with ``steps``), and the state.

        Arguments as in ``forward``; dropout (in training) is applied here, so every head reads the same h.
        """
        if z.dim() != 3 or a.dim() != 3 or z.shape[:2] != a.shape[:2]:
            raise ValueError(f"forward wants z [B,T,{self.z_size}] and a [B,T,{self.action_size}], "
                             f"got {tuple(z.shape)} and {tuple(a.shape)}; use step() for one step")
        if z.shape[-1] != self.z_size or a.shape[-1] != self.action_size:
            raise ValueError(f"this M was built for z_size={self.z_size}, action_size={self.action_size}; "
                             f"got z {tuple(z.shape)}, a {tuple(a.shape)}")
        h, state = self._run_lstm(self._inputs(z, a, restart), state, restart)
        h = h if steps is None else h[steps]
        if self.dropout > 0 and self.training:  # skipped at 0: no random draws, the same numbers as before
            h = nn.functional.dropout(h, self.dropout, training=True)
        return h, state

    def forward(self, z, a, state=None, restart=None, steps=None):
        """z [B,T,z], a [B,T,A], restart [B,T] or None -> (MixtureOut, done_logit [B,T] or None, state).

        ``restart[b, t] = 1`` marks the first step of an episode: the state entering
        that step is zeroed (and Doom's M also reads the flag as an input).
        ``steps``: a bool mask [B,T]; the heads then run on those steps only and the outputs
        are [N, z, K] and [N] in ``h[steps]`` order (training skips a batch's padding this way).
        The reward head's prediction: ``predict_reward`` of ``features``' h.
        """
        h, state = self.features(z, a, state, restart, steps)
        mix, done = self.heads(h)
        return mix, done, state

    def step(self, z, a, state=None, restart=None):
        """One step for a batch: z [B,z], a [B,A], restart [B] -> (MixtureOut [B,z,K], done [B] or None, state)."""
        mix, done, state = self.forward(z.unsqueeze(1), a.unsqueeze(1), state,
                                        None if restart is None else restart.unsqueeze(1))
        mix = MixtureOut(*(t.squeeze(1) for t in mix))
        return mix, (None if done is None else done.squeeze(1)), state

    def advance(self, z, a, state, restart=None):
        """One step of the LSTM alone: z [B,z], a [B,A], state ([1,B,H], [1,B,H]), restart [B]
        -> the next state, as ``step`` returns it (to float rounding), without the heads.

        What a real-world rollout needs from M (C reads h). Computed as one LSTM cell in
        plain tensor ops: on the CPU, ``nn.LSTM``'s oneDNN kernel re-packs its weights on
        every call, which for one step of a few episodes costs ~10x the arithmetic.
        """
        x = self._inputs(z, a, restart)  # [B, input + 1]
        h, c = state
        if restart is not None:  # a restarting row enters its first step with a zero state
            keep = (1 - restart.to(x.dtype)).unsqueeze(-1)
            h, c = h * keep, c * keep
        gates = x @ self.lstm.weight_ih_l0.T + h[0] @ self.lstm.weight_hh_l0.T
        i, f, g, o = gates.chunk(4, dim=-1)  # torch's gate order
        c1 = torch.sigmoid(f) * c[0] + torch.sigmoid(i) * torch.tanh(g)
        h1 = torch.sigmoid(o) * torch.tanh(c1)
        return h1[None], c1[None]

    @classmethod
    def from_checkpoint(cls, ckpt: dict, device="cpu") -> "MDNRNN":
        """M rebuilt from a checkpoint's ``arch`` and ``model`` weights (half precision is widened), in eval mode."""
        model = cls(**ckpt["arch"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()})
        return model.to(device).eval()

    def arch(self) -> dict:
        """What rebuilds this module: ``MDNRNN(**m.arch())``."""
        arch = dict(z_size=self.z_size, action_size=self.action_size, hidden=self.hidden,
                    n_mixtures=self.n_mixtures, done_head=self.has_done)
        if self.discrete_actions:  # only when set, so older checkpoints' arch still matches
            arch["discrete_actions"] = True
        if self.has_reward:  # likewise
            arch["reward_head"] = True
        return arch

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


__all__ = ["MDNRNN", "MixtureOut", "doom_action_levels", "action_shares", "mixture_nll", "done_nll", "sample_mixture", "temper",
           "mixture_mean_var", "mixture_density", "reward_loss"]
