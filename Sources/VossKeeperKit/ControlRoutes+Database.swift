import VossWire

/// The metadata database (`ose db`) and the migration onto it (`ose migration`).
extension ControlAPI {
    func databaseRoutes(_ r: inout ControlRouter) {
        r.on(Routes.dbShow) { call, _ in await db.show(withSecret: call.withSecret) }
        r.on(Routes.dbSet) { _, body in try await db.set(body) }
        r.on(Routes.migrationShow) { _, _ in try await db.showMigration() }
        r.on(Routes.migrationStart) { _, body in try await db.startMigration(force: body.force) }
    }
}
