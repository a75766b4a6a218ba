// Marker shapes for series drawn as points (FrontierPlot): the palette's matplotlib marker names (its
// `markers` table and `marker_cycle`, saewidgets/widgets/_palette.py) drawn as SVG paths, so the browser and
// the matplotlib fallback show the same shape for an architecture. Concatenated after common.js.
//
// Uses from common.js: seriesStyle.

/** SVG path of a matplotlib marker (the palette's names: o X ^ v s D * P) centred on 0,0 with radius ~r. */
function markerPath(shape, r) {
  const p = (pts) => "M" + pts.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join("L") + "Z";
  const [a, b] = shape === "X" ? [r * 0.5, r * 1.1] : [r * 0.38, r * 1.05];
  // prettier-ignore
  switch (shape) {
    case "^":
      return p([[0, -r * 1.15], [r * 1.1, r * 0.8], [-r * 1.1, r * 0.8]]);
    case "v":
      return p([[0, r * 1.15], [r * 1.1, -r * 0.8], [-r * 1.1, -r * 0.8]]);
    case "s":
      return p([[-r * 0.9, -r * 0.9], [r * 0.9, -r * 0.9], [r * 0.9, r * 0.9], [-r * 0.9, r * 0.9]]);
    case "D":
      return p([[0, -r * 1.2], [r, 0], [0, r * 1.2], [-r, 0]]);
    case "X":
      return p([[-b, -b + a], [-b + a, -b], [0, -a], [b - a, -b], [b, -b + a], [a, 0], [b, b - a], [b - a, b],
        [0, a], [-b + a, b], [-b, b - a], [-a, 0]]);
    case "P":
      return p([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a], [a, b], [-a, b], [-a, a], [-b, a],
        [-b, -a], [-a, -a]]);
    case "*": { // ten points, alternately far (tips) and near (notches), from the top clockwise
      const at = (k) => [k % 2 ? r * 0.55 : r * 1.3, -Math.PI / 2 + (k * Math.PI) / 5];
      return p([...Array(10).keys()].map(at).map(([d, a]) => [d * Math.cos(a), d * Math.sin(a)]));
    }
    default:
      return `M${-r},0a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
  }
}

/** The marker shape and inline colour style of series k, architecture `arch`, from the palette. */
function seriesMarker(pal, arch, k) {
  pal = pal || {};
  const cycle = pal.marker_cycle || ["o"];
  return { shape: (pal.markers || {})[arch] || cycle[k % cycle.length], style: seriesStyle(pal, k) };
}
