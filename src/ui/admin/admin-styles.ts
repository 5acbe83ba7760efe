/** The admin pages' stylesheet, added after the shared one (src/ui/layout.ts). */
export const ADMIN_STYLES = `
main.wide { max-width: 76rem; margin: 0 auto; padding: 0 1rem 3rem; }
.admin-head { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem;
  padding: 1rem 0; margin-bottom: 1rem; border-bottom: 1px solid var(--line); }
.admin-head .brand { font-weight: 700; color: var(--fg); text-decoration: none; margin-right: auto; }
.admin-head nav { display: flex; gap: .25rem; }
.admin-head nav a { padding: .35rem .75rem; border-radius: 8px; color: var(--fg); text-decoration: none; }
.admin-head nav a:hover { background: var(--card); }
.admin-head nav a[aria-current=page] { background: var(--card); border: 1px solid var(--line);
  font-weight: 600; }
main.wide h1 { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0 1rem; }
main.wide h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
main.wide .card { padding: 1.25rem; margin-bottom: 1rem; overflow: hidden; }
a { color: var(--accent); }
.crumbs { margin: 0; }
.lede { color: var(--muted); margin-top: -.5rem; }
.notice { padding: .6rem .9rem; border-radius: 8px; border: 1px solid var(--accent);
  background: color-mix(in srgb, var(--accent) 10%, var(--card)); }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); }
.grid > .card { margin-bottom: 0; }
.stack > * + * { margin-top: 1rem; }

/* Buttons and forms */
main.wide button, .button { margin: 0; padding: .45rem .9rem; font-size: .925rem; }
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
button.danger { background: var(--danger); }
@media (prefers-color-scheme: dark) { main.wide button:not(.secondary) { color: #14171c; } }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; }
.actions form { margin: 0; }
.filters { display: grid; gap: .75rem; align-items: end;
  grid-template-columns: minmax(12rem, 2fr) minmax(8rem, 1fr) minmax(7rem, .7fr) minmax(7rem, .7fr) auto; }
.filters label { margin: 0; font-size: .85rem; }
.filters input, .filters select { display: block; width: 100%; margin-top: .25rem; padding: .45rem .6rem;
  border: 1px solid var(--line); border-radius: 8px; font: inherit; font-weight: 400;
  background: var(--card); color: var(--fg); }
.filters.short { grid-template-columns: minmax(10rem, 20rem) auto auto; justify-content: start; }
.filters .buttons { display: flex; gap: .5rem; align-items: center; white-space: nowrap; }
.filters .check { display: flex; gap: .4rem; align-items: center; padding-bottom: .5rem; }
.filters .check input { width: auto; margin: 0; }
.bulk { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 1rem 0 .5rem; }
.bulk .muted { font-size: .875rem; }

/* Tables */
.table-wrap { overflow-x: auto; }
table.data { width: 100%; border-collapse: collapse; font-size: .9rem; }
table.data th, table.data td { padding: .5rem .6rem; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--line); }
table.data thead th { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); font-weight: 600; white-space: nowrap; }
table.data tbody tr:hover { background: color-mix(in srgb, var(--accent) 5%, transparent); }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data td.nowrap { white-space: nowrap; }
table.data td.wrap { overflow-wrap: break-word; }
table.data td.anywhere { overflow-wrap: anywhere; min-width: 9rem; }
table.data td.long { min-width: 14rem; }
table.data td.email { min-width: 11rem; }
.filters + .table-wrap { margin-top: 1rem; }
table.data .sub { display: block; color: var(--muted); font-size: .8rem; }
table.data input[type=checkbox] { width: 1.05rem; height: 1.05rem; margin: .15rem 0 0; }
.empty { color: var(--muted); text-align: center; padding: 1.5rem; }

/* Badges */
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .75rem;
  font-weight: 600; border: 1px solid var(--line); color: var(--muted); white-space: nowrap; }
.badge.ok { color: #146c2e; border-color: #9bd3aa; background: #e8f6ec; }
.badge.warn { color: var(--danger); border-color: color-mix(in srgb, var(--danger) 45%, transparent);
  background: color-mix(in srgb, var(--danger) 10%, transparent); }
@media (prefers-color-scheme: dark) { .badge.ok { color: #8fe0a6; border-color: #2f6b40; background: #15301f; } }

/* Details */
dl.fields { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .4rem 1rem; margin: 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
pre, code.block { display: block; margin: 0; padding: .75rem; border-radius: 8px; background: var(--bg);
  border: 1px solid var(--line); overflow: auto; font-size: .85rem; white-space: pre-wrap;
  overflow-wrap: anywhere; }
details.link summary { cursor: pointer; color: var(--accent); }
details.link .copy { display: block; margin: .75rem 0 .5rem; font-size: .85rem; }
details.link .copy input { display: block; width: 100%; margin-top: .25rem; padding: .45rem .6rem;
  border: 1px solid var(--line); border-radius: 8px; font: .85rem ui-monospace, monospace;
  background: var(--bg); color: var(--fg); }
ul.reasons { margin: .25rem 0 0; padding-left: 1.2rem; }
table.data ul.reasons { margin: 0; }

/* Pager */
.pager { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5rem;
  margin-top: 1rem; font-size: .9rem; }
.pager .gone { visibility: hidden; }

/* Chart */
figure.chart { margin: 0; }
figure.chart .plot { display: grid; grid-template-columns: auto 1fr; column-gap: .5rem; }
figure.chart svg { display: block; width: 100%; height: 9rem; overflow: visible; }
figure.chart .bar { fill: var(--accent); }
figure.chart .bar:hover { fill: color-mix(in srgb, var(--accent) 65%, var(--fg)); }
figure.chart .gridline { stroke: var(--line); stroke-dasharray: 3 3; }
figure.chart .axis { stroke: var(--muted); }
figure.chart .y-axis { display: flex; flex-direction: column; justify-content: space-between;
  margin: -.375rem 0; text-align: right; }
figure.chart .x-axis { grid-column: 2; display: flex; justify-content: space-between; padding-top: .3rem; }
figure.chart .y-axis, figure.chart .x-axis { color: var(--muted); font-size: .75rem; line-height: 1;
  font-variant-numeric: tabular-nums; }
figure.chart figcaption { color: var(--muted); font-size: .875rem; margin-top: .6rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

/* Narrow screens: filters stack, the pass list turns into one card per pass. */
@media (max-width: 52rem) {
  .filters { grid-template-columns: 1fr 1fr; }
  .filters .search, .filters.short { grid-template-columns: minmax(10rem, 20rem) auto auto; justify-content: start; }
.filters .buttons { grid-column: 1 / -1; }
}
@media (max-width: 40rem) {
  main.wide { padding: 0 .6rem 2rem; }
  main.wide .card { padding: 1rem; border-radius: 10px; }
  .filters.short { grid-template-columns: 1fr auto; }
  .filters.short .buttons { grid-column: auto; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards, table.cards tbody { display: block; width: 100%; }
  table.cards tr { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .35rem .75rem;
    position: relative; padding: .75rem 0 .75rem 2rem; border-bottom: 1px solid var(--line); }
  table.cards td { display: block; border: 0; padding: 0; }
  table.cards td.num { text-align: left; }
  table.cards td[data-label]::before { content: attr(data-label); display: block; color: var(--muted);
    font-size: .7rem; text-transform: uppercase; letter-spacing: .04em; }
  table.cards td.select { position: absolute; left: 0; top: .8rem; }
  table.cards td.who { grid-column: 1 / -1; font-size: 1rem; }
  table.cards td.span2 { grid-column: span 2; }
  table.cards td.nowrap { white-space: normal; }
  table.cards td.empty { grid-column: 1 / -1; }
  dl.fields { grid-template-columns: 1fr; gap: 0; }
  dl.fields dd { margin-bottom: .5rem; }
  figure.chart svg { height: 7rem; }
}
`;
