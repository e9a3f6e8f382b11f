/** WhatsApp's customer-service window: free-form replies are allowed for 24 h after the contact's last message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000

export type ServiceWindow = { open: boolean; closesAt: Date | null }

export function serviceWindow(
	lastInboundAt: Date | string | null,
	now: Date = new Date(),
): ServiceWindow {
	if (!lastInboundAt) return { open: false, closesAt: null }
	const closesAt = new Date(new Date(lastInboundAt).getTime() + SERVICE_WINDOW_MS)
	return { open: closesAt.getTime() > now.getTime(), closesAt }
}

export const WINDOW_CLOSED_REASON =
	'More than 24 hours have passed since this contact last wrote, so WhatsApp only allows an approved template. Send one below; a free-form reply is possible again once they answer.'
