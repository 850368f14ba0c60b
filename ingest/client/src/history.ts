/**
 * The ballot's two pages are history entries: Back on the review returns
 * to the ballot with its marks, Forward goes to the review again, rather
 * than leaving the page. Nothing about the vote is in the address or in the
 * entry's state but the page's name; the marks are in the stored vote
 * state (persist.ts).
 */

export type Step = 'ballot' | 'review';

let listener: ((step: Step) => void) | null = null;

const stepOf = (state: unknown): Step | null => {
  const step = (state as { saylau?: unknown } | null)?.saylau;
  return step === 'ballot' || step === 'review' ? step : null;
};

/** The step the current history entry stands for, if any. */
export const currentStep = (): Step | null => stepOf(history.state);

/** Makes `step` the current entry: a new one when the voter moves on, the same one when it is restored. */
export function enterStep(step: Step, how: 'push' | 'replace'): void {
  if (how === 'push') history.pushState({ saylau: step }, '');
  else history.replaceState({ saylau: step }, '');
}

/** Back and Forward land on a step: `show` paints it. null while no step takes part (sending, receipt). */
export function onStepChange(show: ((step: Step) => void) | null): void {
  listener = show;
}

window.addEventListener('popstate', (event) => {
  const step = stepOf(event.state);
  if (step !== null) listener?.(step);
});
