"""A same-pixels fast renderer for gymnasium's ``CarRacing-v3``.

A ``CarRacing-v3`` step costs ~5-10 ms, and almost all of it is drawing the
96x96 observation: gymnasium creates a 1000x800 pygame surface every step,
transforms ~700 polygons (400 grass squares, ~300 road tiles and kerbs) vertex
by vertex in Python, draws every one of them, smooth-scales the canvas to
96x96 and builds a font object for the score. Box2D's physics is ~0.1 ms.

``FastCarRacing`` is gymnasium's ``CarRacing`` with one method replaced: the
observation (``"state_pixels"``) is drawn our way, with gymnasium's camera and
the same pygame primitives (``gfxdraw`` anti-aliased playfield, grass and road,
``draw.polygon`` car and dashboard bars, the same font) and the same
``smoothscale`` to 96x96. ``smoothscale`` is a box filter: a block of the
canvas whose edges fall on output pixel edges gives the same output pixels
whether it is scaled alone or with the rest, so the frame is put together
from three blocks:

* the view (canvas rows 0:700 -> frame rows 0:84) on a canvas ``canvas_scale``
  times gymnasium's (0.5: 500x350), with zoom and scroll scaled alike: the
  same picture at a lower resolution, which moves polygon edges by up to a
  canvas pixel (a fraction of an output pixel);
* the fovea, canvas x 375:625, y 500:700 around the car (which sits at a fixed
  place on screen and never leaves it) -> frame cols 36:60, rows 60:84, drawn
  at gymnasium's resolution on gymnasium's own pixel grid: small shapes (the
  car, the nearby road edges) come out as gymnasium draws them;
* the dashboard (canvas rows 700:800 -> frame rows 84:96), at gymnasium's
  resolution: a black band, seven bars and the score (each text rendered once).

Everywhere, vertices are transformed by numpy in one shot, only polygons whose
bounding circle meets the canvas are drawn, and the canvas is simply filled
with the background colour when the playfield covers it. Road tiles change
colour when visited (the colour array is shared with ``road_poly``), so colours
are read every frame. Agreement with gymnasium's frames, measured in
``tests/test_carracing_fast.py`` and ``benchmarks/carracing_render.py``: mean
|difference| ~0.1 / 255 (p99 2-3).

Physics, track generation, rewards, termination, ``render()`` for people
(``"rgb_array"``, ``"human"``) are gymnasium's own: with ``renderer="gymnasium"``
this class *is* gymnasium's env.

The drawing is ours, written against gymnasium's renderer as it stands in the
versions of ``CHECKED_GYMNASIUM``; the pixel-agreement test refuses to pass on
other versions until someone re-checks the agreement and widens the range.
"""
from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
from gymnasium.envs.box2d import car_dynamics as cd
from gymnasium.envs.box2d import car_racing as cr

import pygame
from pygame import gfxdraw

RENDERERS = ("fast", "gymnasium")
# gymnasium releases whose CarRacing renderer this module was compared against
# (pixel agreement in tests/test_carracing_fast.py): [low, high). Checked on 1.4.0.
CHECKED_GYMNASIUM = ("1.4.0", "1.5.0")

_W, _H = cr.WINDOW_W, cr.WINDOW_H  # gymnasium's canvas, before smooth-scaling to 96x96


def _grass_polygons() -> np.ndarray:
    """The 400 grass squares gymnasium draws, in world coordinates: (400, 4, 2)."""
    d = cr.GRASS_DIM
    xs, ys = np.meshgrid(np.arange(-20, 20, 2), np.arange(-20, 20, 2), indexing="ij")
    x0 = (d * xs).reshape(-1, 1)
    y0 = (d * ys).reshape(-1, 1)
    corners = np.array([[d, 0.0], [0.0, 0.0], [0.0, d], [d, d]])  # gymnasium's vertex order
    return np.stack([x0 + corners[:, 0], y0 + corners[:, 1]], axis=-1)


def _bounding_circles(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (vertex mean) and radius of a circle around each polygon of (N, V, 2)."""
    centre = polys.mean(axis=1)
    radius = np.sqrt(((polys - centre[:, None, :]) ** 2).sum(axis=-1)).max(axis=1)
    return centre, radius


_GRASS = _grass_polygons()
_GRASS_CENTRE, _GRASS_RADIUS = _bounding_circles(_GRASS)
_FIELD = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], float) * cr.PLAYFIELD
_S = cd.SIZE
_WHEEL_POLY = np.array([[-cd.WHEEL_W, cd.WHEEL_R], [cd.WHEEL_W, cd.WHEEL_R],
                        [cd.WHEEL_W, -cd.WHEEL_R], [-cd.WHEEL_W, -cd.WHEEL_R]], float) * _S
_HULL_POLYS = [np.array(p, float) * _S for p in
               (cd.HULL_POLY1, cd.HULL_POLY2, cd.HULL_POLY3, cd.HULL_POLY4)]
_WHEEL_PTS = [tuple(p) for p in _WHEEL_POLY.tolist()]
_HULL_PTS = [[tuple(p) for p in poly.tolist()] for poly in _HULL_POLYS]
_BLACK = (0, 0, 0)
_VIEW_H = 84  # output rows of the view; rows 84:96 are the dashboard
# The fovea: gymnasium's canvas block x 375:625, y 500:700 (after the flip), around the
# car at (500, 600); its edges fall on output pixel edges (1000 / 96 * 36 = 375,
# 800 / 96 * 60 = 500), so it maps to the output block cols 36:60, rows 60:84.
_FOVEA = (375, 500, 250, 200)
_FOVEA_OUT = (36, 60, 24, 24)
_DASH_TOP = _H - 5 * (_H // 40)  # gymnasium's dashboard band: canvas rows 700:800


def _int_color(c) -> tuple[int, int, int]:
    return int(c[0]), int(c[1]), int(c[2])


class FastCarRacing(cr.CarRacing):
    """gymnasium's ``CarRacing`` whose observation is drawn by ``renderer``.

    ``renderer="fast"`` (default) draws the 96x96 observation with this module's
    renderer; ``"gymnasium"`` leaves gymnasium's own. Everything else (physics,
    rewards, termination, ``render()``) is gymnasium's in both cases.
    """

    def __init__(self, render_mode: str | None = None, verbose: bool = False,
                 lap_complete_percent: float = 0.95, domain_randomize: bool = False,
                 continuous: bool = True, renderer: str = "fast", canvas_scale: float = 0.5):
        if renderer not in RENDERERS:
            raise ValueError(f"renderer {renderer!r}: use one of {RENDERERS}")
        if not 0.1 <= canvas_scale <= 1.0:
            raise ValueError(f"canvas_scale {canvas_scale}: use a value in [0.1, 1]")
        super().__init__(render_mode=render_mode, verbose=verbose,
                         lap_complete_percent=lap_complete_percent,
                         domain_randomize=domain_randomize, continuous=continuous)
        gym.utils.EzPickle.__init__(self, render_mode, verbose, lap_complete_percent,
                                    domain_randomize, continuous, renderer, canvas_scale)
        self.renderer = renderer
        self.canvas_scale = float(canvas_scale)
        self._cw = int(round(_W * self.canvas_scale))
        self._ch = int(round(_DASH_TOP * self.canvas_scale))  # the view: canvas rows 0:700
        self._canvas: pygame.Surface | None = None
        self._out: pygame.Surface | None = None
        self._road_src = None  # the road_poly list the cached arrays were built from
        self._text_cache: dict[str, pygame.Surface] = {}
        self._font = None

    # -- gymnasium's hook: step() and reset() call _render("state_pixels") ------------------
    def _render(self, mode: str):
        if self.renderer == "fast" and mode == "state_pixels" and "t" in self.__dict__:
            return self._render_state_pixels()
        return super()._render(mode)

    # -- the fast observation ----------------------------------------------------------------
    def _scene_arrays(self):
        """Grass squares, then road tiles and kerbs (gymnasium's drawing order), as one
        (N, 4, 2) array with bounding circles, built once per track; and their colours."""
        if self._road_src is not self.road_poly:
            self._road_src = self.road_poly
            road = np.array([poly for poly, _ in self.road_poly], float).reshape(-1, 4, 2)
            self._polys = np.concatenate([_GRASS, road])
            self._centre, self._radius = _bounding_circles(self._polys)
            # None: the grass colour. Tiles' colours are numpy arrays shared with the Box2D
            # bodies and repainted when visited: keep the objects, read them at draw time.
            self._colors = [None] * len(_GRASS) + [color for _, color in self.road_poly]
        return self._polys, self._centre, self._radius, self._colors

    def _render_state_pixels(self) -> np.ndarray:
        k = self.canvas_scale
        if self._canvas is None:
            self._canvas = pygame.Surface((self._cw, self._ch))
            self._fovea = pygame.Surface((_FOVEA[2], _FOVEA[3]))
            self._dash = pygame.Surface((_W, _H - _DASH_TOP))
            self._out = pygame.Surface((cr.STATE_W, cr.STATE_H))
        car = self.car

        # gymnasium's camera: rotate by -hull angle, zoom (animated over the first second),
        # scroll so the car sits at (W/2, H/4) before the vertical flip.
        angle = -car.hull.angle
        zoom = 0.1 * cr.SCALE * max(1 - self.t, 0) + cr.ZOOM * cr.SCALE * min(self.t, 1)
        c, s = math.cos(angle), math.sin(angle)
        px, py = car.hull.position
        sx, sy = -px * zoom, -py * zoom
        tx = _W / 2 + (sx * c - sy * s)
        ty = _H / 4 + (sx * s + sy * c)
        # world -> gymnasium's canvas, its vertical flip included (y -> H - y): xy @ a.T + b
        a = np.array([[c * zoom, -s * zoom], [-s * zoom, -c * zoom]])
        b = np.array([tx, _H - ty])

        # The 96x96 frame: rows 0:84 are the view (gymnasium's canvas rows 0:700), rows
        # 84:96 the dashboard (canvas rows 700:800, drawn over the view). smoothscale is a
        # box filter, and on canvas blocks whose edges fall on output pixel edges it gives
        # the pixels it gives on the whole canvas: so the frame is put together from blocks.
        out = self._out
        # 1. the view at canvas_scale
        self._draw_scene(self._canvas, a * k, b * k, zoom * k)
        pygame.transform.smoothscale(self._canvas, (cr.STATE_W, _VIEW_H),
                                     out.subsurface((0, 0, cr.STATE_W, _VIEW_H)))
        # 2. the fovea: the block around the car (which never leaves it), at full resolution,
        #    where small shapes (the car, the near road edges) suffer most from a coarse canvas
        #    and drawn as gymnasium draws it: in its own (unflipped) coordinates, truncated to
        #    whole pixels as pygame truncates them, shifted by whole pixels, then flipped
        fx, fy, fw, fh = _FOVEA
        a_up = np.array([[c * zoom, -s * zoom], [s * zoom, c * zoom]])
        snap = np.array([fx, _H - fy - fh], float)
        self._draw_scene(self._fovea, a_up, np.array([tx, ty]), zoom, snap)
        fovea = pygame.transform.flip(self._fovea, False, True)
        pygame.transform.smoothscale(fovea, (_FOVEA_OUT[2], _FOVEA_OUT[3]), out.subsurface(_FOVEA_OUT))
        # 3. the dashboard at full resolution (a few rectangles and the score)
        dash = self._dash
        dash.fill(_BLACK)
        self._draw_indicators(dash)
        self._draw_score(dash)
        pygame.transform.smoothscale(dash, (cr.STATE_W, cr.STATE_H - _VIEW_H),
                                     out.subsurface((0, _VIEW_H, cr.STATE_W, cr.STATE_H - _VIEW_H)))
        return np.frombuffer(bytearray(pygame.image.tobytes(out, "RGB")), np.uint8).reshape(
            cr.STATE_H, cr.STATE_W, 3)

    def _draw_scene(self, surf, a, b, zk, snap=None):
        """Playfield, grass, road and the car, placed by ``xy @ a.T + b`` on ``surf``.

        With ``snap``, ``xy @ a.T + b`` is gymnasium's own canvas coordinates: they are
        truncated toward zero (as pygame does with gymnasium's floats), then moved by
        ``-snap`` (whole pixels), so the shapes land on the very pixels gymnasium's do.
        """
        cw, ch = surf.get_size()
        place = (lambda p: p) if snap is None else (lambda p: np.trunc(p) - snap)
        bv = b if snap is None else b - snap  # for the visibility tests
        # background: the playfield square; outside it gymnasium's surface stays black
        bg = _int_color(self.bg_color)
        px, py = self.car.hull.position
        if self._field_covers_canvas(px, py, a, bv, zk, cw, ch):
            surf.fill(bg)
        else:
            surf.fill(_BLACK)
            pts = place(_FIELD @ a.T + b).tolist()
            gfxdraw.aapolygon(surf, pts, bg)
            gfxdraw.filled_polygon(surf, pts, bg)

        # grass, then road tiles and kerbs, in gymnasium's order; only those that touch the
        # canvas: a bounding-circle test on the centres, then a bounding-box test on the
        # vertices of those left (margins cover anti-aliasing and truncation)
        polys, centre, radius, colors = self._scene_arrays()
        xy = centre @ a.T + bv
        r = radius * zk + 2.0
        idx = np.flatnonzero((xy[:, 0] >= -r) & (xy[:, 0] <= cw + r) & (xy[:, 1] >= -r) & (xy[:, 1] <= ch + r))
        if len(idx):
            pts = polys[idx] @ a.T + b
            pv = pts if snap is None else pts - snap
            lo, hi = pv.min(axis=1), pv.max(axis=1)
            keep = (hi[:, 0] >= -2) & (lo[:, 0] <= cw + 2) & (hi[:, 1] >= -2) & (lo[:, 1] <= ch + 2)
            grass_color = _int_color(self.grass_color)
            for i, poly in zip(idx[keep].tolist(), place(pts[keep]).tolist()):
                c = colors[i]
                color = grass_color if c is None else _int_color(c)  # live: visited tiles
                gfxdraw.aapolygon(surf, poly, color)
                gfxdraw.filled_polygon(surf, poly, color)

        if snap is not None:  # the car never leaves the fovea: on the coarse canvas it is hidden
            self._draw_car(surf, a, b, snap)

    @staticmethod
    def _field_covers_canvas(px, py, a, b, zk, cw, ch) -> bool:
        """Whether the playfield square covers the whole canvas (with a few pixels to spare).

        Every canvas corner lies within ``reach`` world units of the car: the field covers
        the canvas when that disc around the car lies inside it.
        """
        cx, cy = px * a[0, 0] + py * a[0, 1] + b[0], px * a[1, 0] + py * a[1, 1] + b[1]
        far = max(math.hypot(x - cx, y - cy) for x in (0, cw) for y in (0, ch))
        reach = (far + 4.0) / zk
        return abs(px) + reach < cr.PLAYFIELD and abs(py) + reach < cr.PLAYFIELD

    def _draw_car(self, surf, a, b, snap=None):
        """Wheels (black, with the turning white patch) then the red hull, as gymnasium does.

        A dozen small polygons: plain Python arithmetic beats numpy's per-call overhead here.
        """
        (a00, a01), (a10, a11) = a.tolist()
        b0, b1 = b.tolist()
        sx, sy = (0, 0) if snap is None else (int(snap[0]), int(snap[1]))

        def placer(body):
            """body-local point -> canvas: the body's transform, then the camera's."""
            (x, y), ang = body.position, body.angle
            c, s = math.cos(ang), math.sin(ang)
            m00, m01 = a00 * c + a01 * s, -a00 * s + a01 * c
            m10, m11 = a10 * c + a11 * s, -a10 * s + a11 * c
            o0, o1 = a00 * x + a01 * y + b0, a10 * x + a11 * y + b1
            if snap is None:
                return lambda pts: [(m00 * u + m01 * v + o0, m10 * u + m11 * v + o1) for u, v in pts]
            return lambda pts: [(math.trunc(m00 * u + m01 * v + o0) - sx,
                                 math.trunc(m10 * u + m11 * v + o1) - sy) for u, v in pts]

        car = self.car
        hw, r = cd.WHEEL_W * _S, cd.WHEEL_R * _S
        for w in car.wheels:
            place = placer(w)
            pygame.draw.polygon(surf, cd.WHEEL_COLOR, place(_WHEEL_PTS))
            a1 = w.phase
            a2 = a1 + 1.2
            s1, s2 = math.sin(a1), math.sin(a2)
            c1, c2 = math.cos(a1), math.cos(a2)
            if s1 > 0 and s2 > 0:
                continue
            if s1 > 0:
                c1 = math.copysign(1.0, c1) if c1 else 0.0
            if s2 > 0:
                c2 = math.copysign(1.0, c2) if c2 else 0.0
            white = ((-hw, r * c1), (hw, r * c1), (hw, r * c2), (-hw, r * c2))
            pygame.draw.polygon(surf, cd.WHEEL_WHITE, place(white))
        hull = car.hull
        place = placer(hull)
        color = tuple(int(v * 255) for v in hull.color)
        for poly in _HULL_PTS:
            pygame.draw.polygon(surf, color, place(poly))

    def _draw_indicators(self, dash):
        """The dashboard bars (speed, four ABS sensors, steering, gyroscope) on the band surface."""
        W, H = _W, _H - _DASH_TOP  # band coordinates: gymnasium's y minus 700
        s, h = W / 40.0, _H / 40.0
        car = self.car

        def vertical(place, val, color):
            pygame.draw.polygon(dash, color, [(place * s, H - (h + h * val)),
                                              ((place + 1) * s, H - (h + h * val)),
                                              ((place + 1) * s, H - h), (place * s, H - h)])

        def horizontal(place, val, color):
            pygame.draw.polygon(dash, color, [(place * s, H - 4 * h), ((place + val) * s, H - 4 * h),
                                              ((place + val) * s, H - 2 * h), (place * s, H - 2 * h)])

        vx, vy = car.hull.linearVelocity
        speed = math.sqrt(vx * vx + vy * vy)
        if abs(speed) > 1e-4:
            vertical(5, 0.02 * speed, (255, 255, 255))
        for j, color in ((0, (0, 0, 255)), (1, (0, 0, 255)), (2, (51, 0, 255)), (3, (51, 0, 255))):
            omega = car.wheels[j].omega
            if abs(omega) > 1e-4:
                vertical(7 + j, 0.01 * omega, color)
        steer = car.wheels[0].joint.angle
        if abs(steer) > 1e-4:
            horizontal(20, -10.0 * steer, (0, 255, 0))
        gyro = car.hull.angularVelocity
        if abs(gyro) > 1e-4:
            horizontal(30, -0.8 * gyro, (255, 0, 0))

    def _draw_score(self, dash):
        """The score as gymnasium writes it, each distinct text rendered once."""
        text = f"{self.reward:04.0f}"
        img = self._text_cache.get(text)
        if img is None:
            if self._font is None:
                pygame.font.init()
                self._font = pygame.font.Font(pygame.font.get_default_font(), 42)
            img = self._font.render(text, True, (255, 255, 255), (0, 0, 0))
            if len(self._text_cache) > 4096:
                self._text_cache.clear()
            self._text_cache[text] = img
        rect = img.get_rect()
        rect.center = (60, _H - _H * 2.5 / 40.0 - _DASH_TOP)
        dash.blit(img, rect)


def make_carracing(renderer: str = "fast", max_episode_steps: int | None = None,
                   render_mode: str | None = None, **kwargs) -> gym.Env:
    """``gym.make("CarRacing-v3", ...)`` with the same wrappers, on ``FastCarRacing``."""
    spec = dataclasses.replace(gym.spec("CarRacing-v3"), entry_point=FastCarRacing)
    return gym.make(spec, max_episode_steps=max_episode_steps, render_mode=render_mode,
                    renderer=renderer, **kwargs)


def follow_track(env, target_speed: float = 40.0, lookahead: int = 6) -> np.ndarray:
    """A simple driver for tests and benchmarks: steer at the track point ``lookahead`` tiles
    ahead of the nearest one, gas below ``target_speed``. It drives over many tiles (so
    visited tiles change colour) and sometimes over the grass on sharp bends."""
    u = env.unwrapped
    x, y = u.car.hull.position
    track = np.asarray(u.track)[:, 2:4]
    i = int(np.argmin(((track - (x, y)) ** 2).sum(axis=1)))
    tx, ty = track[(i + lookahead) % len(track)]
    heading = u.car.hull.angle + math.pi / 2  # the car's nose points along body +y
    err = math.atan2(ty - y, tx - x) - heading
    err = (err + math.pi) % (2 * math.pi) - math.pi
    vx, vy = u.car.hull.linearVelocity
    speed = math.hypot(vx, vy)
    steer = float(np.clip(-2.0 * err, -1, 1))
    gas = 0.4 if speed < target_speed else 0.0
    return np.array([steer, gas, 0.0], np.float32)


__all__ = ["RENDERERS", "CHECKED_GYMNASIUM", "FastCarRacing", "make_carracing", "follow_track"]
