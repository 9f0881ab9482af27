/** Whether a and b differ by at most tol. */
export const near = (a: number, b: number, tol = 1e-6) => Math.abs(a - b) <= tol;
