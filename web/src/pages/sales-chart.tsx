import { useId } from "react";
import type { EarningsDay } from "../../../lib/api/earnings.ts";

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { top: 12, right: 8, bottom: 24, left: 32 };

const count = (sales: { sales: number }[]) => sales.reduce((sum, s) => sum + s.sales, 0);

/** Sales per day as stacked bars (card below, on chain above), drawn as SVG; its table is what screen readers read. */
export function SalesChart({ days }: { days: EarningsDay[] }) {
  const id = useId();
  const totals = days.map((d) => ({ date: d.date, card: count(d.card), crypto: count(d.crypto) }));
  const max = Math.max(1, ...totals.map((t) => t.card + t.crypto));
  const ticks = [...new Set([0, Math.ceil(max / 2), max])];
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, totals.length);
  const bar = Math.max(2, slot * 0.7);
  const y = (value: number) => PAD.top + innerH - (value / max) * innerH;

  return (
    <figure className="sales-chart" aria-labelledby={`${id}-caption`}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-caption`}>
        {ticks.map((tick) => (
          <g key={tick}>
            <line className="chart-grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text className="chart-axis" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
              {tick}
            </text>
          </g>
        ))}
        {totals.map((t, i) => {
          const x = PAD.left + i * slot + (slot - bar) / 2;
          return (
            <g key={t.date}>
              <title>{`${t.date}: ${t.card} by card, ${t.crypto} on chain`}</title>
              {t.card > 0 && (
                <rect className="chart-card" x={x} width={bar} y={y(t.card)} height={y(0) - y(t.card)} />
              )}
              {t.crypto > 0 && (
                <rect
                  className="chart-crypto"
                  x={x}
                  width={bar}
                  y={y(t.card + t.crypto)}
                  height={y(t.card) - y(t.card + t.crypto)}
                />
              )}
            </g>
          );
        })}
        {totals.length > 0 && (
          <>
            <text className="chart-axis" x={PAD.left} y={HEIGHT - 6}>
              {totals[0]!.date}
            </text>
            <text className="chart-axis" x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end">
              {totals.at(-1)!.date}
            </text>
          </>
        )}
      </svg>
      <figcaption id={`${id}-caption`}>
        Sales per day: <span className="chart-key chart-key-card" aria-hidden="true" /> by card,{" "}
        <span className="chart-key chart-key-crypto" aria-hidden="true" /> on chain
      </figcaption>
      <table className="visually-hidden">
        <caption>Sales per day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">By card</th>
            <th scope="col">On chain</th>
          </tr>
        </thead>
        <tbody>
          {totals
            .filter((t) => t.card + t.crypto > 0)
            .map((t) => (
              <tr key={t.date}>
                <th scope="row">{t.date}</th>
                <td>{t.card}</td>
                <td>{t.crypto}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}
