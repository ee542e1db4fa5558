// A Jam link (/jam/CODE): join that Jam on one of your devices (connect-ui.js).

import { h } from "../ui/dom.js";
import { jamSection } from "../connect-ui.js";

export async function render({ root, params }) {
  const [panel, stop] = await jamSection(params.code || "");
  root.append(h("h1.page-title", null, "Jam"), panel);
  return stop;
}
