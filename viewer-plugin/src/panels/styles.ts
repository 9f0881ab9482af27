import { css } from 'lit';

/** The element's shadow styles: the stage fills it; tool bar, side panel and status float over it. */
export const viewerStyles = css`
  :host {
    display: block; position: relative; min-height: 300px; background: #111; color: #eee;
    font: 13px system-ui, sans-serif; outline: none
  }
  .stage { position: absolute; inset: 0 }
  :host([tool=brush]) .stage, :host([tool=erase]) .stage, :host([tool=outline]) .stage {
    cursor: crosshair; touch-action: none
  }
  .bar {
    position: absolute; top: 6px; left: 6px; right: 248px; display: flex; gap: 4px; flex-wrap: wrap; z-index: 2;
    pointer-events: none
  }
  .bar > * { pointer-events: auto }
  .bar button {
    background: #2a2a2a; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 3px 8px; cursor: pointer
  }
  .bar button[aria-pressed=true] { background: #3b6; color: #000 }
  .bar .size { background: #2a2a2a; border: 1px solid #555; border-radius: 4px; padding: 1px 6px }
  .bar .size input { width: 44px; background: #111; color: #eee; border: 0 }
  .side .model { display: block; width: 100%; text-align: left; font-size: 11px }
  .side .model[aria-pressed=true] { border-color: #3b6 }
  .brush {
    position: absolute; pointer-events: none; border: 1.5px solid; border-radius: 50%; z-index: 1;
    box-shadow: 0 0 0 1px #0008
  }
  .swatch {
    display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; border: 1px solid #0008
  }
  .status {
    position: absolute; bottom: 6px; left: 6px; z-index: 2; background: #000a; padding: 2px 6px; border-radius: 4px
  }
  .side {
    position: absolute; top: 6px; right: 6px; bottom: 6px; width: 230px; overflow: auto; z-index: 2;
    background: #000c; padding: 6px; border-radius: 6px
  }
  .side .row { display: flex; gap: 4px; align-items: center; margin: 2px 0 }
  .side input[type=number] { width: 60px }
  .side input[type=range] { width: 80px }
  .side button {
    background: #2a2a2a; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 2px 6px; cursor: pointer;
    margin: 2px 0
  }
  .suggestion { display: block; width: 100% }
  .models { font-size: 11px; opacity: .85 }
  .catalogue input:not([type=checkbox]), .catalogue select { width: 100%; box-sizing: border-box; margin: 1px 0 }
  .catalogue .row input:not([type=checkbox]) { flex: 1; min-width: 0; width: auto }
  .entry { border-top: 1px solid #444; padding: 4px 0; font-size: 11px }
  .entry .cover { width: 100%; border-radius: 3px }`;
