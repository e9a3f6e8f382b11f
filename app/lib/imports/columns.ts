/** What a CSV column can become (kept apart from options.ts so the browser bundle stays small). */
export const COLUMN_TARGETS = ['phone', 'name', 'email', 'attribute', 'opt_out', 'ignore'] as const
export type ColumnTarget = (typeof COLUMN_TARGETS)[number]
