import Testing
import VossBase

@testable import VossSupervision

private let t0 = Instant.seconds(1000)

private func at(_ seconds: Double) -> Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

/// A lifecycle that has been started, spawned as pid 100 and said ready at t0.
private func runningWorker(_ spec: ChildSpec = ChildSpec(name: "w")) -> WorkerLifecycle {
    var w = WorkerLifecycle(spec: spec)
    #expect(w.start(at: t0) == [.spawn])
    #expect(w.spawned(pid: 100, at: t0) == [])
    #expect(w.ready(at: t0) == [.becameReady])
    return w
}

@Suite struct WorkerLifecycleTests {
    @Test func start_spawns_andReadyMakesItRunning() {
        var w = WorkerLifecycle(spec: ChildSpec(name: "i18n"))
        #expect(w.phase == .idle)
        #expect(w.start(at: t0) == [.spawn])
        #expect(w.phase == .spawning)
        _ = w.spawned(pid: 42, at: t0)
        #expect(w.phase == .starting(pid: 42, deadline: t0 + .seconds(30)))
        #expect(w.ready(at: at(0.2)) == [.becameReady])
        #expect(w.phase == .running(pid: 42))
        #expect(w.restarts == 0)
        #expect(w.health == .healthy)
    }

    @Test func running_pingsEverySecond_andPongKeepsItHealthy() {
        var w = runningWorker()
        #expect(w.nextDeadline == at(1))
        #expect(w.tick(at: at(0.5)) == [])
        #expect(w.tick(at: at(1)) == [.sendPing(seq: 1)])
        #expect(w.pong(seq: 1, at: at(1.01)) == [])
        #expect(w.unansweredPings == 0)
        #expect(w.tick(at: at(2)) == [.sendPing(seq: 2)])
        #expect(w.nextDeadline == at(3))
    }

    @Test func threeUnansweredPings_meanHung_termThenKillThenRestart() {
        var w = runningWorker()
        #expect(w.tick(at: at(1)) == [.sendPing(seq: 1)])
        #expect(w.tick(at: at(2)) == [.sendPing(seq: 2)])
        #expect(w.health == .late(unanswered: 2))
        #expect(w.tick(at: at(3)) == [.sendPing(seq: 3)])
        #expect(w.tick(at: at(4)) == [.signal(pid: 100, .term), .signal(pid: 100, .cont)])
        #expect(w.phase == .stopping(pid: 100, killAt: at(4.5)))
        #expect(w.tick(at: at(4.5)) == [.signal(pid: 100, .kill)])
        let actions = w.exited(pid: 100, reason: .signaled(9), at: at(4.51))
        #expect(actions.first.map { if case .exited(let r) = $0 { r.cause == .hung } else { false } } == true)
        #expect(actions.last == .spawn)
        #expect(w.lastExit?.description == "hung: 3 pings unanswered; killed by SIGKILL")
        _ = w.spawned(pid: 101, at: at(4.52))
        #expect(w.restarts == 1)
    }

    @Test func crash_ofALongRunningWorker_restartsImmediately_andRecordsTheReason() {
        var w = runningWorker()
        let actions = w.exited(pid: 100, reason: .signaled(9), at: at(20))
        #expect(actions == [.exited(ExitRecord(cause: .crashed, reason: .signaled(9), at: at(20))), .spawn])
        #expect(w.lastExit?.description == "killed by SIGKILL")
    }

    @Test func crash_soonAfterStart_waitsForTheOneSecondFloor() {
        var w = runningWorker()
        let actions = w.exited(pid: 100, reason: .exited(3), at: at(0.3))
        #expect(actions == [.exited(ExitRecord(cause: .crashed, reason: .exited(3), at: at(0.3)))])
        #expect(w.phase == .waiting(until: at(1)))
        #expect(w.nextDeadline == at(1))
        #expect(w.tick(at: at(0.9)) == [])
        #expect(w.tick(at: at(1)) == [.spawn])
    }

    @Test func crashLoop_backsOffExponentially_thenGivesUp() {
        var spec = ChildSpec(name: "w")
        spec.backoff.jitter = 0
        var w = WorkerLifecycle(spec: spec)
        _ = w.start(at: t0)
        var now = t0
        var starts: [Instant] = []
        var gaveUp = false
        for _ in 0..<20 {
            _ = w.spawned(pid: 7, at: now)
            starts.append(now)
            let actions = w.exited(pid: 7, reason: .exited(1), at: now + .milliseconds(10))
            now = now + .milliseconds(10)
            if actions.contains(where: { if case .gaveUp = $0 { true } else { false } }) {
                gaveUp = true
                break
            }
            if actions.last == .spawn { continue }
            guard case .waiting(let until) = w.phase else {
                Issue.record("unexpected phase \(w.phase)")
                return
            }
            now = until
            #expect(w.tick(at: now) == [.spawn])
        }
        #expect(gaveUp)
        // 6 failures within the 60 s window exceed maxRestarts = 5.
        #expect(starts.count == 6)
        let gaps = zip(starts.dropFirst(), starts).map { ($0 - $1).secondsDouble }
        // 1 s floor, 1 s floor, then 0.5 s (floored to 1 s), 1 s, 2 s — each measured from the previous exit.
        #expect(gaps.map { ($0 * 100).rounded() / 100 } == [1, 1, 1, 1.01, 2.01])
        #expect(w.phase == .failed(retryAt: now + .seconds(300)))
        #expect(w.tick(at: now + .seconds(299)) == [])
        #expect(w.tick(at: now + .seconds(300)) == [.spawn])
    }

    @Test func aWorkerThatServedBeforeItWasKilled_restartsAtOnceEveryTime() {
        var w = runningWorker(ChildSpec(name: "w", maxRestarts: 1000))
        var now = t0
        for i in 0..<10 {
            now = now + .milliseconds(1200)
            let actions = w.exited(pid: 100 + Int32(i), reason: .signaled(9), at: now)
            #expect(actions.last == .spawn, "kill \(i) after 1.2 s of service restarts at once")
            _ = w.spawned(pid: 101 + Int32(i), at: now)
            _ = w.ready(at: now + .milliseconds(10))
        }
        #expect(w.consecutiveFailures == 1)
    }

    @Test func failedWorker_startsAgainWhenTheOperatorAsks() {
        var spec = ChildSpec(name: "w", maxRestarts: 0, failedRetryAfter: nil)
        spec.backoff.jitter = 0
        var w = runningWorker(spec)
        let actions = w.exited(pid: 100, reason: .exited(1), at: at(1))
        #expect(actions.last.map { if case .gaveUp = $0 { true } else { false } } == true)
        #expect(w.phase == .failed(retryAt: nil))
        #expect(w.nextDeadline == nil)
        #expect(w.restart(at: at(2)) == [.spawn])
    }

    @Test func stop_sendsStopAndTerm_thenKillsAfterTheTimeout_andStaysDown() {
        var w = runningWorker()
        #expect(w.stop(at: at(1)) == [.sendStop(grace: .seconds(10)), .signal(pid: 100, .term)])
        #expect(w.tick(at: at(10.9)) == [])
        #expect(w.tick(at: at(11)) == [.signal(pid: 100, .kill)])
        let actions = w.exited(pid: 100, reason: .signaled(9), at: at(11.1))
        #expect(actions.count == 1)
        #expect(w.phase == .idle)
        #expect(w.lastExit?.cause == .requested)
    }

    @Test func restart_stopsThenSpawnsAtOnce_withoutCountingAsAFailure() {
        var w = runningWorker()
        #expect(w.restart(at: at(5)) == [.sendStop(grace: .seconds(10)), .signal(pid: 100, .term)])
        let actions = w.exited(pid: 100, reason: .exited(0), at: at(5.2))
        #expect(actions.last == .spawn)
        #expect(w.consecutiveFailures == 0)
    }

    @Test func transientWorker_thatExitsCleanly_isNotRestarted() {
        var w = runningWorker(ChildSpec(name: "w", restart: .transient))
        let actions = w.exited(pid: 100, reason: .exited(0), at: at(3))
        #expect(actions.count == 1)
        #expect(w.phase == .idle)
    }

    @Test func workerThatNeverSaysReady_isKilledAndRestarted() {
        var w = WorkerLifecycle(spec: ChildSpec(name: "w", readyTimeout: .seconds(5)))
        _ = w.start(at: t0)
        _ = w.spawned(pid: 9, at: t0)
        #expect(w.nextDeadline == at(5))
        #expect(w.tick(at: at(5)) == [.signal(pid: 9, .term), .signal(pid: 9, .cont)])
        let actions = w.exited(pid: 9, reason: .signaled(15), at: at(5.1))
        #expect(w.lastExit?.cause == .notReady)
        #expect(actions.last == .spawn)
    }

    @Test func ipcEOF_followedByExit_recordsTheRealExitReason() {
        var w = runningWorker()
        #expect(w.ipcClosed(at: at(3)) == [])
        let actions = w.exited(pid: 100, reason: .signaled(9), at: at(3.01))
        #expect(actions.first == .exited(ExitRecord(cause: .crashed, reason: .signaled(9), at: at(3.01))))
    }

    @Test func ipcEOF_withoutExit_killsTheWorkerAfterTheGrace() {
        var w = runningWorker()
        _ = w.ipcClosed(at: at(3))
        #expect(w.nextDeadline == at(4))
        #expect(w.tick(at: at(4)) == [.signal(pid: 100, .term), .signal(pid: 100, .cont)])
    }

    @Test func stopDuringSpawn_stopsTheProcessAsSoonAsItExists() {
        var w = WorkerLifecycle(spec: ChildSpec(name: "w"))
        _ = w.start(at: t0)
        #expect(w.stop(at: t0) == [])
        #expect(w.spawned(pid: 5, at: t0) == [.sendStop(grace: .seconds(10)), .signal(pid: 5, .term)])
    }

    @Test func spawnFailure_countsAsAFailure() {
        var w = WorkerLifecycle(spec: ChildSpec(name: "w"))
        _ = w.start(at: t0)
        let actions = w.spawnFailed("No such file or directory", at: t0)
        #expect(w.lastExit?.description == "could not start: No such file or directory")
        #expect(actions.last == .spawn)
    }

    @Test func exitOfAnUnknownPid_isIgnored() {
        var w = runningWorker()
        #expect(w.exited(pid: 999, reason: .exited(1), at: at(1)) == [])
        #expect(w.phase == .running(pid: 100))
    }

    @Test func stalePongs_doNotResetANewerOutstandingPing() {
        var w = runningWorker()
        _ = w.tick(at: at(1))
        _ = w.tick(at: at(2))
        _ = w.pong(seq: 1, at: at(2.1))
        #expect(w.unansweredPings == 1)
        _ = w.pong(seq: 99, at: at(2.2))
        #expect(w.unansweredPings == 1)
    }
}

@Suite struct RestartIntensityTests {
    @Test func morethanMaxRestartsInThePeriod_givesUp() {
        var i = RestartIntensity(maxRestarts: 2, period: .seconds(10))
        #expect(i.record(at(0)) == .restart)
        #expect(i.record(at(1)) == .restart)
        #expect(i.record(at(2)) == .giveUp)
    }

    @Test func oldRestarts_fallOutOfTheWindow() {
        var i = RestartIntensity(maxRestarts: 2, period: .seconds(10))
        #expect(i.record(at(0)) == .restart)
        #expect(i.record(at(1)) == .restart)
        #expect(i.record(at(10.5)) == .restart)
        #expect(i.recent.count == 2)
    }
}

@Suite struct BackoffTests {
    @Test func table_matchesTheDocComment() {
        let b = Backoff()
        let delays = (1...10).map { b.delay(failures: $0, unit: 0.5).secondsDouble }
        #expect(delays == [0, 0, 0.5, 1, 2, 4, 8, 16, 30, 30])
    }

    @Test func jitter_staysWithinTenPercent() {
        let b = Backoff()
        #expect(b.delay(failures: 4, unit: 0).secondsDouble == 0.9)
        #expect(abs(b.delay(failures: 4, unit: 0.999_999).secondsDouble - 1.1) < 1e-5)
    }

    @Test func nextStart_neverBeforeTheFloorAfterTheLastStart() {
        let b = Backoff()
        #expect(b.nextStart(failures: 1, lastStart: at(0), now: at(0.2), unit: 0.5) == at(1))
        #expect(b.nextStart(failures: 1, lastStart: at(0), now: at(5), unit: 0.5) == at(5))
    }
}

@Suite struct SupervisorSummaryTests {
    @Test func allRunning_isReady() {
        let s = SupervisorSummary.of([
            .init(name: "i18n", wanted: true, phase: .running(pid: 1), lastExit: nil),
            .init(name: "s3", wanted: true, phase: .running(pid: 2), lastExit: nil),
        ])
        #expect(s.state == .ready)
        #expect(s.text == "ready: 2/2 workers running (i18n, s3)")
    }

    @Test func aFailedWorker_isDegraded_andSaysWhy() {
        let s = SupervisorSummary.of([
            .init(name: "i18n", wanted: true, phase: .running(pid: 1), lastExit: nil),
            .init(
                name: "s3", wanted: true, phase: .failed(retryAt: nil),
                lastExit: ExitRecord(cause: .crashed, reason: .exited(1), at: t0)),
        ])
        #expect(s.state == .degraded)
        #expect(s.text == "degraded: 1/2 workers running; s3 FAILED (exited with status 1)")
    }

    @Test func notYetReady_isStarting() {
        let s = SupervisorSummary.of([
            .init(name: "i18n", wanted: true, phase: .starting(pid: 1, deadline: t0), lastExit: nil)
        ])
        #expect(s.state == .starting)
        #expect(s.text == "starting: 0/1 workers ready, waiting for i18n")
    }
}
