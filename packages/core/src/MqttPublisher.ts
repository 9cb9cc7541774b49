/**
 * MqttPublisher: what ircam publishes on MQTT, and the commands it takes there (when
 * `MQTT_URL` is set; otherwise it does nothing).
 *
 *   every MQTT_STATE_INTERVAL_SECONDS  <prefix>/state          the latest snapshot (retained)
 *   every MQTT_IMAGE_INTERVAL_SECONDS  <prefix>/image          the heat map PNG (retained)
 *   on change                          <prefix>/alarm/<ruleId> the rule's alarm state (retained)
 *   on change                          <prefix>/events         recordings started and completed
 *   on change, on (re)connection and when Home Assistant announces itself (<discovery>/status):
 *                                      Home Assistant's discovery configs (retained)
 *
 * It reads the services' change feeds and the monitor's latest snapshot at its own pace, never
 * per frame, in fibers of its own: the monitor loop does not know it exists. States and images
 * are not kept while the broker is away (the next ones replace them, and everything retained is
 * published again on connection); alarm transitions go through the Notifier's outbox
 * (MqttChannel); recordings wait in memory (the latest 100) until a broker takes them.
 *
 * Discovery follows the zones and rules: one created or renamed is (re)published at once, one
 * deleted is removed with an empty retained config. It also listens to its own config topics, so
 * configs left on the broker by an earlier run (a zone deleted while ircam was stopped, buttons
 * of commands since turned off) are removed as soon as the broker hands them over.
 */
import { Clock, Duration, Effect, Option, Queue, Schedule, Stream } from "effect"
import type { Rule, RuleId } from "./Alarm.js"
import { type AlarmChange, AlarmEngine } from "./AlarmEngine.js"
import { AppConfig } from "./AppConfig.js"
import { EventStore } from "./EventStore.js"
import * as HeatmapImage from "./HeatmapImage.js"
import * as HomeAssistant from "./HomeAssistant.js"
import { describe } from "./internal/describe.js"
import { Monitor, type Snapshot } from "./Monitor.js"
import { type Message, Mqtt, type MqttChange } from "./Mqtt.js"
import * as MqttCommands from "./MqttCommands.js"
import * as MqttMessages from "./MqttMessages.js"
import { ZoneRepo } from "./ZoneRepo.js"

/** Recordings kept for a broker that is away; older ones are dropped first. */
export const recordingBacklog = 100

type Input =
  | { readonly _tag: "Connection"; readonly change: MqttChange }
  | { readonly _tag: "Message"; readonly message: Message }
  | { readonly _tag: "Alarm"; readonly change: AlarmChange }
  | { readonly _tag: "Zones" }

const number = (value: unknown) => typeof value === "number" ? value : null

export class MqttPublisher extends Effect.Service<MqttPublisher>()("@ircam/core/MqttPublisher", {
  scoped: Effect.gen(function*() {
    const mqtt = yield* Mqtt
    if (Option.isNone(mqtt.setup)) return {} as const
    const { config, device } = mqtt.setup.value
    const { topics } = device
    const monitor = yield* Monitor
    const engine = yield* AlarmEngine
    const store = yield* EventStore
    const zones = yield* ZoneRepo
    const { publicUrl } = yield* AppConfig

    // subscribed before anything is read, so that no change falls in between
    const inputs = Stream.mergeAll([
      Stream.map(yield* mqtt.changes, (change): Input => ({ _tag: "Connection", change })),
      Stream.map(yield* mqtt.messages, (message): Input => ({ _tag: "Message", message })),
      Stream.map(yield* engine.changes, (change): Input => ({ _tag: "Alarm", change })),
      Stream.map(yield* zones.changes, (): Input => ({ _tag: "Zones" }))
    ], { concurrency: "unbounded" })
    const recordings = yield* store.changes

    const warn = (what: string) => (error: { readonly message: string }) => Effect.logWarning(what, error.message)

    let rules: ReadonlyArray<Rule> = yield* engine.rules.pipe(
      Effect.tapError(warn("cannot read the alarm rules")),
      Effect.orElseSucceed(() => [])
    )
    const ruleStates = new Map<RuleId, MqttMessages.RuleState>()
    const active = yield* engine.active.pipe(
      Effect.tapError(warn("cannot read the active alarms")),
      Effect.orElseSucceed(() => [])
    )
    for (const alarm of active) ruleStates.set(alarm.ruleId, MqttMessages.active(alarm))

    // --- state and image

    const publishState = Effect.gen(function*() {
      const latest = yield* monitor.latest
      if (Option.isNone(latest)) return
      const { details, status } = yield* monitor.sensorHealth
      const payload = MqttMessages.state(latest.value, yield* zones.list, {
        status,
        frameRate: number(details.frameRate),
        errors: number(details.errors) ?? 0
      })
      yield* mqtt.publish(topics.state, JSON.stringify(payload), { retain: true })
    })

    let imaged: Snapshot | undefined
    /** The heat map of the latest frame, unless it is the one published last (and `force` is off). */
    const publishImage = (force: boolean) =>
      Effect.gen(function*() {
        if (config.imageIntervalSeconds === 0 || !(yield* mqtt.isConnected)) return
        const latest = yield* monitor.latest
        if (Option.isNone(latest) || (latest.value === imaged && !force)) return
        imaged = latest.value
        const png = HeatmapImage.toPng(HeatmapImage.render(latest.value.frame.temperatures, {
          palette: config.imagePalette,
          scale: config.imageScale,
          zones: yield* zones.list,
          legend: true
        }))
        yield* mqtt.publish(topics.image, png, { retain: true })
      })

    // --- alarm states

    const publishRuleState = (ruleId: RuleId) =>
      Effect.gen(function*() {
        const rule = rules.find((r) => r.id === ruleId)
        if (rule === undefined) return
        const state = ruleStates.get(ruleId) ?? MqttMessages.ok
        yield* mqtt.publish(topics.alarm(ruleId), JSON.stringify(MqttMessages.alarmState(rule, state)), {
          retain: true,
          qos: 1
        })
      })

    const reloadRules = Effect.gen(function*() {
      const before = rules
      rules = yield* engine.rules.pipe(
        Effect.tapError(warn("cannot read the alarm rules")),
        Effect.orElseSucceed(() => before)
      )
      for (const rule of before) {
        if (rules.some((r) => r.id === rule.id)) continue
        ruleStates.delete(rule.id)
        // an empty retained message clears what the broker keeps for the rule
        yield* mqtt.publish(topics.alarm(rule.id), "", { retain: true, qos: 1 })
      }
      for (const rule of rules) if (!before.some((r) => r.id === rule.id)) yield* publishRuleState(rule.id)
    })

    const onAlarm = (change: AlarmChange) =>
      Effect.gen(function*() {
        switch (change.transition) {
          case "raised":
            ruleStates.set(change.alarm.ruleId, MqttMessages.active(change.alarm))
            return yield* publishRuleState(change.alarm.ruleId)
          case "acknowledged": {
            const current = ruleStates.get(change.alarm.ruleId)
            if (current?.alarmId !== change.alarm.id) return
            ruleStates.set(change.alarm.ruleId, MqttMessages.active(change.alarm))
            return yield* publishRuleState(change.alarm.ruleId)
          }
          case "cleared":
            ruleStates.set(change.alarm.ruleId, { ...MqttMessages.ok, since: change.alarm.clearedAt })
            return yield* publishRuleState(change.alarm.ruleId)
          case "pending":
            ruleStates.set(change.ruleId, {
              ...MqttMessages.ok,
              state: "pending",
              value: change.value,
              since: change.at
            })
            return yield* publishRuleState(change.ruleId)
          case "ok":
            ruleStates.set(change.ruleId, { ...MqttMessages.ok, since: change.at })
            return yield* publishRuleState(change.ruleId)
          default:
            yield* reloadRules
            yield* syncDiscovery(false)
            if (change.transition === "updated") yield* publishRuleState(change.rule.id)
        }
      })

    // --- discovery

    /** What is on the broker's config topics from this connection, by topic. */
    const published = new Map<string, string>()
    let desired: ReadonlyMap<string, string> = new Map()

    /** The configs the zones and rules call for now. */
    const computeDesired = Effect.gen(function*() {
      const configs = HomeAssistant.configs({
        device,
        discoveryPrefix: config.discoveryPrefix,
        configurationUrl: Option.getOrUndefined(Option.map(publicUrl, (url) => url.href)),
        zones: yield* zones.list,
        rules,
        image: config.imageIntervalSeconds > 0,
        commands: config.commands
      })
      desired = new Map([...configs].map(([topic, payload]) => [topic, JSON.stringify(payload)]))
    })

    const syncDiscovery = (force: boolean) =>
      Effect.gen(function*() {
        if (!config.discovery) return
        yield* computeDesired
        for (const [topic, payload] of desired) {
          if (!force && published.get(topic) === payload) continue
          if (yield* mqtt.publish(topic, payload, { retain: true, qos: 1 })) published.set(topic, payload)
        }
        for (const topic of [...published.keys()]) {
          if (desired.has(topic)) continue
          yield* removeConfig(topic)
        }
      })

    const removeConfig = (topic: string) =>
      Effect.gen(function*() {
        published.delete(topic)
        yield* mqtt.publish(topic, "", { retain: true, qos: 1 })
        yield* Effect.logInfo(`Home Assistant config ${topic} removed`)
      })

    /** Everything retained again: on a new connection, and when Home Assistant (re)starts. */
    const publishAll = Effect.gen(function*() {
      yield* syncDiscovery(true)
      for (const rule of rules) yield* publishRuleState(rule.id)
      yield* publishState
      yield* publishImage(true)
    })

    // --- commands

    const command = (topic: string): MqttCommands.Command | undefined =>
      topic === topics.commands.record ? "record" : topic === topics.commands.acknowledge ? "acknowledge" : undefined

    const onMessage = (message: Message) =>
      Effect.gen(function*() {
        const text = message.payload.toString("utf8")
        const asked = config.commands ? command(message.topic) : undefined
        if (asked !== undefined) {
          const result = yield* MqttCommands.run(asked, text).pipe(
            Effect.provideService(EventStore, store),
            Effect.provideService(AlarmEngine, engine)
          )
          if (!result.ok) yield* Effect.logWarning(`MQTT command ${asked} refused`, result.error.message)
          else yield* Effect.logInfo(`MQTT command ${asked} done`)
          yield* mqtt.publish(topics.commands.result, JSON.stringify(result), { qos: 1 })
          return
        }
        if (!config.discovery) return
        if (message.topic === `${config.discoveryPrefix}/status`) {
          if (text === "online") yield* publishAll
          return
        }
        // a config of ours on the broker that describes nothing there is now
        if (text !== "" && message.topic.endsWith("/config") && !desired.has(message.topic)) {
          yield* removeConfig(message.topic)
        }
      })

    const onInput = (input: Input) => {
      switch (input._tag) {
        case "Connection":
          if (input.change.transition === "disconnected") return Effect.sync(() => published.clear())
          return publishAll
        case "Message":
          return onMessage(input.message)
        case "Alarm":
          return onAlarm(input.change)
        case "Zones":
          return syncDiscovery(false)
      }
    }

    // before the first message: retained configs not in it are removed
    yield* computeDesired
    yield* mqtt.subscribe([
      ...(config.discovery
        ? [`${config.discoveryPrefix}/status`, HomeAssistant.configFilter(config.discoveryPrefix, device.id)]
        : []),
      ...(config.commands ? [topics.commands.record, topics.commands.acknowledge] : [])
    ])

    /** `effect`, its failures (and, should there be one, a bug) logged: the fiber running it goes on. */
    const guarded = (what: string) => <E>(effect: Effect.Effect<void, E>) =>
      effect.pipe(
        Effect.catchAll((error) => Effect.logWarning(what, error)),
        Effect.catchAllDefect((defect) => Effect.logWarning(what, `unexpected failure: ${describe(defect)}`))
      )

    yield* inputs.pipe(
      Stream.runForEach((input) => guarded("MQTT publishing failed")(onInput(input))),
      Effect.forkScoped
    )
    yield* publishState.pipe(
      guarded("cannot publish the state"),
      Effect.repeat(Schedule.fixed(Duration.seconds(config.stateIntervalSeconds))),
      Effect.forkScoped
    )
    if (config.imageIntervalSeconds > 0) {
      yield* publishImage(false).pipe(
        guarded("cannot publish the heat map"),
        Effect.repeat(Schedule.fixed(Duration.seconds(config.imageIntervalSeconds))),
        Effect.forkScoped
      )
    }

    // recordings: in order, each until a broker has it
    const backlog = yield* Queue.sliding<string>(recordingBacklog)
    yield* recordings.pipe(
      Stream.runForEach((change) =>
        Effect.gen(function*() {
          if (change.transition !== "started" && change.transition !== "completed") return
          const event = MqttMessages.recordingEvent(change.transition, change.event, yield* Clock.currentTimeMillis)
          yield* Queue.offer(backlog, JSON.stringify(event))
        })
      ),
      Effect.forkScoped
    )
    yield* Queue.take(backlog).pipe(
      Effect.flatMap((event) =>
        mqtt.publishConfirmed(topics.events, event).pipe(Effect.retry(Schedule.spaced(Duration.seconds(1))))
      ),
      Effect.forever,
      Effect.forkScoped
    )

    return {} as const
  }).pipe(Effect.annotateLogs({ service: "MqttPublisher" }))
}) {}
