import { useFetchers, useNavigation, useRevalidator } from '@remix-run/react'
import { useEffect, useRef } from 'react'

/**
 * Reloads the page's data every few seconds while the tab is visible and nothing else is in
 * flight, so new messages and status ticks appear without a reload. React only patches what
 * changed, so scroll positions and half-typed replies stay as they are.
 */
export function useLivePoll(intervalMs = 3000) {
	const revalidator = useRevalidator()
	const navigation = useNavigation()
	const fetchers = useFetchers()
	const busy = useRef(false)
	busy.current =
		revalidator.state !== 'idle' ||
		navigation.state !== 'idle' ||
		fetchers.some((f) => f.state !== 'idle')
	const revalidate = useRef(revalidator.revalidate)
	revalidate.current = revalidator.revalidate

	useEffect(() => {
		const timer = setInterval(() => {
			if (document.visibilityState === 'visible' && !busy.current) revalidate.current()
		}, intervalMs)
		return () => clearInterval(timer)
	}, [intervalMs])
}
