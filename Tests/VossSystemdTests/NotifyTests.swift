import Testing

@testable import VossSystemd

@Suite struct NotifyTests {
    @Test func payloads_followSdNotify() {
        #expect(NotifyMessage.ready(status: "ready: 1/1").payload == "READY=1\nSTATUS=ready: 1/1")
        #expect(NotifyMessage.watchdog.payload == "WATCHDOG=1")
        #expect(NotifyMessage.reloading(monotonicMicroseconds: 42).payload == "RELOADING=1\nMONOTONIC_USEC=42")
        #expect(NotifyMessage.stopping(status: "bye").payload == "STOPPING=1\nSTATUS=bye")
    }

    @Test func status_isKeptOnOneLine() {
        #expect(NotifyMessage.status("a\nREADY=1").payload == "STATUS=a READY=1")
    }

    @Test func watchdog_petsAtHalfTheTimeout_forThisPidOnly() {
        let w = WatchdogPolicy(environment: ["WATCHDOG_USEC": "20000000"], pid: 10)
        #expect(w?.petInterval == .seconds(10))
        #expect(WatchdogPolicy(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "11"], pid: 10) == nil)
        #expect(WatchdogPolicy(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "10"], pid: 10) != nil)
        #expect(WatchdogPolicy(environment: [:], pid: 10) == nil)
        #expect(WatchdogPolicy(environment: ["WATCHDOG_USEC": "0"], pid: 10) == nil)
    }

    @Test func aStalledLoop_isNotHealthy() {
        let w = WatchdogPolicy(environment: ["WATCHDOG_USEC": "4000000"], pid: 1)!
        #expect(w.loopIsHealthy(lastIterationAgo: .milliseconds(500)))
        #expect(!w.loopIsHealthy(lastIterationAgo: .seconds(2)))
    }
}
