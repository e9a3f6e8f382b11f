import { Form } from '@remix-run/react'
import type { ReactNode } from 'react'

/**
 * A one-button form for destructive actions: the browser asks for confirmation first.
 * `fields` become hidden inputs (e.g. `{ intent: 'delete', id }`).
 */
export function ConfirmButton({
	fields,
	confirm,
	children,
	className = 'btn btn-danger btn-small',
	action,
}: {
	fields: Record<string, string>
	confirm: string
	children: ReactNode
	className?: string
	action?: string
}) {
	return (
		<Form
			method="post"
			action={action}
			style={{ display: 'inline' }}
			onSubmit={(event) => {
				if (!window.confirm(confirm)) event.preventDefault()
			}}
		>
			{Object.entries(fields).map(([name, value]) => (
				<input key={name} type="hidden" name={name} value={value} />
			))}
			<button type="submit" className={className}>
				{children}
			</button>
		</Form>
	)
}
