// On a phone a wide table reads better as one block per row: each cell is
// shown under its column's heading (style.css `table.stack`), which this
// copies from the table's head into the cells' `data-label`.

export function labelCells(table) {
  const heads = [...(table.tHead?.rows[0]?.cells ?? [])].map((th) => th.textContent);
  for (const row of table.tBodies[0]?.rows ?? []) {
    [...row.cells].forEach((cell, i) => {
      if (heads[i]) cell.dataset.label = heads[i];
    });
  }
}
