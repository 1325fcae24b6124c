// Emscripten JS library of the garden: draws its pixels into the page's canvas (Module.canvas).
addToLibrary({
  garden_blit: (pixels, width, height) => {
    const canvas = Module.canvas;
    if (!canvas || !canvas.getContext) return; // under Node: no canvas, the garden still grows
    if (canvas.width !== width) { canvas.width = width; canvas.height = height; }
    const bytes = new Uint8ClampedArray(HEAPU8.buffer, pixels, width * height * 4);
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(bytes), width, height), 0, 0);
  },
});
