// world-view.js: the particle demo's own view of its wasm state — counters, the `World` and its
// particles read straight from memory, and the RGBA framebuffer copied onto the canvas. Frames
// are driven by the page through `hot.call('demo_frame', dt)` (trap-safe, from the hotwasm client).

export class WorldView {
  /** @param {object} Module the initialised Emscripten module of the particles app */
  constructor(Module) {
    this.Module = Module;
    this.image = null;
  }

  get width() {
    return this.Module._demo_width() >>> 0;
  }

  get height() {
    return this.Module._demo_height() >>> 0;
  }

  /** Counters the page shows (and the tests read). */
  stats() {
    const M = this.Module;
    const frame = M._demo_frame_count();
    return {
      frame: typeof frame === 'bigint' ? Number(frame) : frame >>> 0,
      particles: M._demo_particle_count() >>> 0,
      bounces: M._demo_bounces() >>> 0,
      width: this.width,
      height: this.height,
    };
  }

  /** World fields read straight from wasm memory (layout of `World` in the demo's header, wasm32). */
  world() {
    const M = this.Module;
    const w = M._demo_world() >>> 0;
    if (!w) return null;
    const u32 = M.HEAPU32;
    const f32 = M.HEAPF32;
    const i = w >>> 2;
    // Particle *particles @0, u32 count @4, u32 capacity @8, u64 frame @16 (aligned 8),
    // f32 width @24, height @28, time @32, gravity @36, u32 bounces @40, seed @44.
    return {
      particles: u32[i],
      count: u32[i + 1],
      capacity: u32[i + 2],
      frame: u32[i + 4] + u32[i + 5] * 2 ** 32,
      width: f32[i + 6],
      height: f32[i + 7],
      time: f32[i + 8],
      gravity: f32[i + 9],
      bounces: u32[i + 10],
    };
  }

  /** The first `n` particles: {x, y, vx, vy, age, rgba} (24 bytes each). */
  particles(n = 8) {
    const M = this.Module;
    const w = this.world();
    if (!w || !w.particles) return [];
    const out = [];
    const f32 = M.HEAPF32;
    const u32 = M.HEAPU32;
    for (let k = 0; k < Math.min(n, w.count); k++) {
      const i = (w.particles + k * 24) >>> 2;
      out.push({ x: f32[i], y: f32[i + 1], vx: f32[i + 2], vy: f32[i + 3], age: f32[i + 4], rgba: u32[i + 5] >>> 0 });
    }
    return out;
  }

  /** Copies the app's RGBA framebuffer onto a 2D context (a new view every frame: memory may grow). */
  blit(ctx) {
    const M = this.Module;
    const w = this.width;
    const h = this.height;
    const ptr = M._demo_framebuffer() >>> 0;
    if (!ptr || !w || !h) return;
    const pixels = new Uint8ClampedArray(M.HEAPU8.buffer, ptr, w * h * 4);
    if (!this.image || this.image.width !== w || this.image.height !== h) this.image = new ImageData(w, h);
    this.image.data.set(pixels);
    ctx.putImageData(this.image, 0, 0);
  }

  reset() {
    this.Module._demo_reset();
  }
}
