import { renderToStaticMarkup } from 'react-dom/server'
import { expect, test } from 'vitest'
import { ContactCalls } from './contact-calls'

test('the contact call log shows direction, status, duration and time in the user’s zone', () => {
	const html = renderToStaticMarkup(
		<ContactCalls
			timezone="America/Lima"
			calls={[
				{
					id: 'a',
					senderNumber: '+1 555 010 0001',
					senderName: 'Ventas',
					direction: 'inbound',
					status: 'completed',
					durationSeconds: 184,
					startedAt: '2026-11-22T15:00:00.000Z',
				},
				{
					id: 'b',
					senderNumber: '+1 555 010 0001',
					senderName: '',
					direction: 'outbound',
					status: 'missed',
					durationSeconds: 0,
					startedAt: '2026-11-21T15:00:00.000Z',
				},
			]}
		/>,
	)
	expect(html).toContain('↙ Incoming')
	expect(html).toContain('↗ Outgoing')
	expect(html).toContain('3:04')
	expect(html).toContain('badge-yellow">missed')
	expect(html).toContain('10:00')
	expect(html).toContain('Ventas')
	expect(html).toContain('+1 555 010 0001')
	expect(renderToStaticMarkup(<ContactCalls timezone="UTC" calls={[]} />)).toContain(
		'No WhatsApp calls',
	)
})
