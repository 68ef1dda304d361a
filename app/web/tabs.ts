// The section tabs scroll sideways when they do not fit (a phone): a fade and an arrow at the edge that has more
// tabs behind it say so, and the current tab is scrolled into view.
// The classes go on the nav's parent, which does not scroll, so that the cues stay at its edges.
export function watchTabOverflow(nav: HTMLElement): void {
  const frame = nav.parentElement ?? nav;
  const update = () => {
    const more = nav.scrollWidth - nav.clientWidth;
    frame.classList.toggle('more-before', nav.scrollLeft > 1);
    frame.classList.toggle('more-after', more - nav.scrollLeft > 1);
  };
  nav.addEventListener('scroll', update, { passive: true });
  window.addEventListener('resize', update);
  update();
}

export function showCurrentTab(nav: HTMLElement): void {
  const current = nav.querySelector<HTMLElement>('[aria-current="page"]');
  if (!current || nav.scrollWidth <= nav.clientWidth) return;
  const left = current.offsetLeft - nav.clientWidth / 2 + current.offsetWidth / 2;
  nav.scrollTo({ left: Math.max(0, left) });
}
