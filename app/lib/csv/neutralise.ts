/**
 * CSV output that a spreadsheet opens as data, never as a formula (OWASP "CSV injection"): a cell
 * starting with = + - @ tab, CR or NUL gets a leading apostrophe, then the cell is quoted when it
 * holds a comma, quote or line break.
 */
const FORMULA_START = /^[=+\-@\t\r\0]/

export function neutraliseFormula(value: string) {
	return FORMULA_START.test(value) ? `'${value}` : value
}

/** One CSV cell: neutralised and quoted as needed. Numbers cannot be formulas and stay as they are. */
export function neutraliseCell(value: string | number | null | undefined) {
	if (value === null || value === undefined) return ''
	const text = typeof value === 'number' ? String(value) : neutraliseFormula(value)
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** One CSV line (CRLF-terminated, as RFC 4180 and Excel expect). */
export function csvLine(values: ReadonlyArray<string | number | null | undefined>) {
	return `${values.map(neutraliseCell).join(',')}\r\n`
}
