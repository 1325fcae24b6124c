// host.js: loads the Emscripten demo host and drives it one frame at a time from JS, so that a
// trap in a patched function surfaces here as an exception (never through Emscripten's
// main-loop / abort machinery) and the stack pointer can be put back.

/** Loads a classic (non-ES6) MODULARIZE script once and resolves to its factory function. */
export function loadFactory(scriptUrl, exportName = 'createHotwasmDemo') {
  if (typeof globalThis[exportName] === 'function') return Promise.resolve(globalThis[exportName]);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = scriptUrl;
    s.async = true;
    s.onload = () =>
      typeof globalThis[exportName] === 'function'
        ? resolve(globalThis[exportName])
        : reject(new Error(`${scriptUrl} loaded but defines no ${exportName}(): was it built with -sEXPORT_NAME=${exportName}?`));
    s.onerror = () => reject(new Error(`could not load ${scriptUrl}: build it with \`HOT_RELOAD=1 scripts/emscripten-bundle.sh\``));
    document.head.append(s);
  });
}

export class DemoHost {
  /** @param {object} Module an initialised Emscripten module of the demo host */
  constructor(Module) {
    this.Module = Module;
    this.image = null;
  }

  get hotReload() {
    return typeof this.Module._hotwasm_apply === 'function';
  }

  get width() {
    return this.Module._demo_width() >>> 0;
  }

  get height() {
    return this.Module._demo_height() >>> 0;
  }

  /**
   * Simulates and renders one frame. Returns null, or the error a trap threw. The stack pointer
   * saved before the call is restored after a trap: the wasm frames that were unwound by the
   * trap never ran their epilogues.
   */
  frame(dtSeconds) {
    const M = this.Module;
    const sp = M.stackSave();
    try {
      M._demo_frame(dtSeconds);
      return null;
    } catch (error) {
      M.stackRestore(sp);
      return error;
    }
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

  /** World fields read straight from wasm memory (layout of `World` in hotwasm.h, wasm32). */
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

  /** Copies the host's RGBA framebuffer onto a 2D context (a new view every frame: memory may grow). */
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
