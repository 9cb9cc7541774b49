// The types of uPlot for the page's type-check: WebPage serves its module at /assets/uPlot.esm.js
// from the `uplot` package (not served itself: .ts is not a file the page fetches).
import uPlot from "uplot"

export default uPlot
