using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Cycle;

/// <summary>
/// The app on a fake clock early in 2026, so a 2025 cycle runs its schedule in fake hours; queues and the durable
/// engine run on real time, and the year's orchestration looks at the fake clock at least every second.
/// </summary>
public class CycleClockFixture : FastQueueFixture
{
    public static readonly DateTimeOffset Start = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Clock { get; } = new(Start);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Ets:Durable:Worker"] = "true",
        ["Ets:Cycle:MaxWaitSeconds"] = "1",
        // A restarted app takes its partition back within a second or two; after a kill, the lease runs out in 10 s and
        // the work the killed app had taken reappears in 40 s.
        ["Ets:Durable:LeaseAcquireInterval"] = "00:00:01",
        ["Ets:Durable:LeaseRenewInterval"] = "00:00:02",
        ["Ets:Durable:LeaseInterval"] = "00:00:10",
        ["Ets:Durable:WorkItemVisibilityTimeout"] = "00:00:40",
        ["Ets:Durable:ControlVisibilityTimeout"] = "00:00:40",
    };

    /// <summary>Steps held up on purpose; kept across restarts, as the fixture's settings are.</summary>
    public HeldSteps Faults { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<BeijingEts.Functions.Cycle.CycleFaults>(Faults);
    }
}

/// <summary>Holds the first run of a chosen unit's step until released; every later run of it goes through.</summary>
public sealed class HeldSteps : BeijingEts.Functions.Cycle.CycleFaults
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HeldStep> _holds = new();

    public sealed class HeldStep
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _runs;

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        internal Task PassAsync()
        {
            if (Interlocked.Increment(ref _runs) > 1) return Task.CompletedTask;
            _reached.TrySetResult();
            return _released.Task;
        }
    }

    public HeldStep Hold(int year, string phase, string uscc) => _holds.GetOrAdd($"{year}/{phase}/{uscc}", _ => new HeldStep());

    public override Task BeforeStepAsync(int year, BeijingEts.Functions.Cycle.CyclePhase phase, string uscc) =>
        _holds.TryGetValue($"{year}/{phase}/{uscc}", out var hold) ? hold.PassAsync() : Task.CompletedTask;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _failures = new();

    /// <summary>The next <paramref name="times"/> batches of the phase throw before they read anything, as an activity does when storage is out of reach.</summary>
    public void FailBatches(int year, string phase, int times) => _failures[$"{year}/{phase}"] = times;

    public int FailuresLeft(int year, string phase) => _failures.GetValueOrDefault($"{year}/{phase}");

    public override Task BeforeBatchAsync(int year, BeijingEts.Functions.Cycle.CyclePhase phase)
    {
        var key = $"{year}/{phase}";
        while (_failures.TryGetValue(key, out var left) && left > 0)
        {
            if (_failures.TryUpdate(key, left - 1, left)) throw new InvalidOperationException($"Injected: the {phase} batch cannot reach storage.");
        }
        return Task.CompletedTask;
    }
}

/// <summary>A year of a handful of units under one clock: what each phase does, pausing, and one orchestration per year.</summary>
public sealed class YearlyCycleTests(CycleClockFixture app) : IClassFixture<CycleClockFixture>
{
    private readonly CycleDriver _cycle = new(app);
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private DateTimeOffset At(int hour) => _cycle.At(hour);

    private async Task<(int Year, List<string> Key, string General)> YearAsync(int keyUnits)
    {
        var (key, general) = await _cycle.YearAsync(keyUnits, generalUnits: 1);
        return (_cycle.Year, key, general[0]);
    }

    private Task<JsonElement> StatusAsync(int year) => _cycle.StatusAsync();

    private Task<JsonElement> AtPhaseAsync(int year, DateTimeOffset at, string phase) => _cycle.AtPhaseAsync(at, phase);

    private Task NudgeAsync(int year, DateTimeOffset at) => _cycle.NudgeAsync(at);

    private Task<IReadOnlyDictionary<string, JsonElement>> StepsAsync(int year, string phase) => _cycle.StepsAsync(phase);

    private static JsonElement Phase(JsonElement status, string name) => CycleDriver.Phase(status, name);

    [Fact]
    public async Task AYear_RunsFromListToClose_EachPhaseDoingItsPart()
    {
        var (year, key, general) = await YearAsync(keyUnits: 4);
        var reporting = new ReportingClient(app);
        var started = await _cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var first = await started.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("list-published", first.GetProperty("phase").GetString());
        Assert.Equal(At(1), first.GetProperty("nextTimer").GetDateTimeOffset());

        // Pre-allocation: 70% of the 10,000 t basis to each key unit, through the ledger.
        var open = await AtPhaseAsync(year, At(2), "reporting");
        Assert.Equal(4, Phase(open, "pre-allocation").GetProperty("done").GetInt32());
        foreach (var unit in key) Assert.Equal(7000, await _ledger.HoldingAsync(unit, vintage: year));
        Assert.Equal(At(3), open.GetProperty("nextTimer").GetDateTimeOffset());

        // Reporting: everyone but the last key unit reports; it gets a reminder at reportsDue.
        foreach (var unit in key.Take(3).Append(general)) await reporting.SubmitAsync(unit, year, ReportingClient.Report());
        await AtPhaseAsync(year, At(3), "verification");
        var reminders = await StepsAsync(year, "reporting");
        Assert.Equal(5, reminders.Count);
        Assert.StartsWith("reminder", reminders[key[3]].GetProperty("outcome").GetString());
        Assert.StartsWith("reported", reminders[general].GetProperty("outcome").GetString());

        // Verification due: no unit had its report verified, so every key unit is listed.
        await AtPhaseAsync(year, At(4), "confirmation");
        Assert.All((await StepsAsync(year, "verification")).Values, s => Assert.StartsWith("listed", s.GetProperty("outcome").GetString()));

        // Confirmation: three confirmed; at the due time the fourth holds the cycle until the regulator advances.
        foreach (var (unit, emissions) in key.Take(3).Zip(new long[] { 8000, 6000, 5000 })) await reporting.ConfirmAsync(unit, year, emissions);
        app.Clock.SetUtcNow(At(5));
        await Eventually.HoldsAsync(async () =>
        {
            await NudgeAsync(year, At(5));
            return (await StatusAsync(year)).GetProperty("blocked").GetString()?.Contains("Waiting for 1 key unit") == true;
        }, "the cycle waits for the unconfirmed unit");
        Assert.Equal("confirmation", (await StatusAsync(year)).GetProperty("phase").GetString());
        Assert.StartsWith("listed: not confirmed", (await StepsAsync(year, "confirmation"))[key[3]].GetProperty("outcome").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _cycle.Regulator.PostAsync($"/api/cycles/{year}/advance", null, Ct)).StatusCode);

        // Verified allocation: top-up or claw-back to the confirmed figures; the unconfirmed unit's step fails, visibly.
        var surrender = await AtPhaseAsync(year, At(6), "surrender");
        var failure = Assert.Single(surrender.GetProperty("failures").EnumerateArray());
        Assert.Equal(key[3], failure.GetProperty("unit").GetString());
        Assert.Contains("not confirmed", failure.GetProperty("reason").GetString());
        Assert.Equal(3, Phase(surrender, "verified-allocation").GetProperty("done").GetInt32());

        // The unit reports late and is confirmed; the regulator retries its failed step, which now allocates.
        await reporting.SubmitAsync(key[3], year, ReportingClient.Report());
        await reporting.ConfirmAsync(key[3], year, 4000);
        var retried = await _cycle.Regulator.PostAsJsonAsync($"/api/cycles/{year}/retry", new { phase = "verified-allocation" }, Ct);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        await Eventually.HoldsAsync(async () => Phase(await StatusAsync(year), "verified-allocation").GetProperty("done").GetInt32() == 4, "the retried step allocates");
        Assert.Empty((await StatusAsync(year)).GetProperty("failures").EnumerateArray());
        Assert.Equal(10_000, await _ledger.HoldingAsync(key[3], vintage: year));

        // Surrender: one in full, one in part, one not at all.
        await SurrenderAsync(key[0], year, 8000);
        await SurrenderAsync(key[1], year, 1000);
        await Eventually.HoldsAsync(async () => (await app.Client("unit", key[0]).GetFromJsonAsync<JsonElement>($"/api/units/{key[0]}/compliance/{year}", Ct))
            .GetProperty("status").GetString() == "compliant", "the full surrender settles");

        // At the deadline compliance is assessed and the non-compliant list frozen; the cycle closes at its close time.
        await AtPhaseAsync(year, At(7), "assessment");
        await Eventually.HoldsAsync(async () => Phase(await StatusAsync(year), "assessment").GetProperty("done").GetInt32() == 4, "every key unit is assessed");
        var frozen = (await _cycle.Regulator.GetFromJsonAsync<JsonElement>($"/api/cycles/{year}/non-compliant", Ct)).EnumerateArray().Select(s => s.GetProperty("unit").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { key[1], key[2], key[3] }, frozen);
        // Each unit on the frozen list has its enforcement case for the year (Art. 29), once.
        var cases = (await _cycle.Regulator.GetFromJsonAsync<JsonElement>("/api/cases?status=open", Ct)).EnumerateArray()
            .Where(c => c.GetProperty("source").GetString() == "non-compliance" && c.GetProperty("year").GetInt32() == year).ToList();
        Assert.Equal(frozen, cases.Select(c => c.GetProperty("party").GetProperty("id").GetString()).ToHashSet());
        Assert.Equal(5000, cases.Single(c => c.GetProperty("party").GetProperty("id").GetString() == key[1]).GetProperty("shortfallT").GetInt64());
        // Each assessed unit is told its own status, with its shortfall; the general reporting unit has none to be told.
        await Eventually.HoldsAsync(async () => await app.Client("unit", key[3]).NoticeAsync($"compliance-{year}") is not null, "the assessment's notices are written");
        var met = (await app.Client("unit", key[0]).NoticeAsync($"compliance-{year}"))!.Value;
        Assert.Equal(("compliance.status", $"You met your {year} surrender obligation in full and on time."), (met.GetProperty("kind").GetString(), met.GetProperty("bodyEn").GetString()));
        var shortNotice = (await app.Client("unit", key[3]).NoticeAsync($"compliance-{year}"))!.Value;
        Assert.Contains("4000 t short", shortNotice.GetProperty("bodyEn").GetString());
        Assert.Contains("差额 4000 吨", shortNotice.GetProperty("bodyZh").GetString());
        Assert.Contains("5000 t short", (await app.Client("unit", key[1]).NoticeAsync($"compliance-{year}"))!.Value.GetProperty("bodyEn").GetString());
        Assert.Null(await app.Client("unit", general).NoticeAsync($"compliance-{year}"));
        Assert.Equal(At(8), (await StatusAsync(year)).GetProperty("nextTimer").GetDateTimeOffset());
        var closed = await AtPhaseAsync(year, At(8), "closed");
        var path = closed.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("to").GetString()).Distinct().ToList();
        Assert.Equal(["list-published", "pre-allocation", "reporting", "verification", "confirmation", "verified-allocation", "surrender", "assessment", "closed"], path);
        Assert.Equal($"cycle-{year}", closed.GetProperty("instanceId").GetString());
        await Eventually.HoldsAsync(async () => (await StatusAsync(year)).GetProperty("runtimeStatus").GetString() == "Completed", "the year's orchestration completes");
        await _ledger.AssertNoDriftAsync();
    }

    private async Task SurrenderAsync(string uscc, int year, long quantity)
    {
        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/surrenders/{year}",
            new { transactionId = $"s-{uscc}", items = new[] { new { product = "BEA", vintage = year, quantity } } }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ABatchActivityThatThrows_DoesNotEndTheYear_ItsStepsRunLater()
    {
        var (year, key, general) = await YearAsync(keyUnits: 3);
        app.Faults.FailBatches(year, "Reporting", times: 2);
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct)).StatusCode);
        await AtPhaseAsync(year, At(2), "reporting");

        var verification = await AtPhaseAsync(year, At(3), "verification");
        Assert.Equal(0, app.Faults.FailuresLeft(year, "Reporting"));
        Assert.Equal("Running", verification.GetProperty("runtimeStatus").GetString());
        var reporting = CycleDriver.Phase(verification, "reporting");
        Assert.Equal((4, 4, 0), (reporting.GetProperty("total").GetInt32(), reporting.GetProperty("done").GetInt32(), reporting.GetProperty("failed").GetInt32()));
        var steps = await _cycle.StepsAsync("reporting");
        Assert.Equal(key.Append(general).Order(StringComparer.Ordinal), steps.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task APausedCycle_TakesNoStep_UntilResumed()
    {
        var (year, key, _) = await YearAsync(keyUnits: 2);
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct)).StatusCode);
        await AtPhaseAsync(year, At(1), "pre-allocation");

        var paused = await _cycle.Regulator.PostAsync($"/api/cycles/{year}/pause", null, Ct);
        Assert.True((await paused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("paused").GetBoolean());
        await Eventually.HoldsAsync(async () => (await StatusAsync(year)).GetProperty("runtimeStatus").GetString() == "Suspended", "the engine suspends the year's instance");
        if (At(2) > app.Clock.GetUtcNow()) app.Clock.SetUtcNow(At(2));
        for (var i = 0; i < 5; i++)
        {
            app.Clock.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(200, Ct);
        }
        var still = await StatusAsync(year);
        Assert.Equal("pre-allocation", still.GetProperty("phase").GetString());
        Assert.Equal(0, await _ledger.HoldingAsync(key[0], vintage: year));
        Assert.Equal(JsonValueKind.Null, still.GetProperty("nextTimer").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await _cycle.Regulator.PostAsync($"/api/cycles/{year}/resume", null, Ct)).StatusCode);
        await AtPhaseAsync(year, At(2), "reporting");
        Assert.Equal("Running", (await StatusAsync(year)).GetProperty("runtimeStatus").GetString());
        Assert.Equal(7000, await _ledger.HoldingAsync(key[0], vintage: year));
        var causes = (await StatusAsync(year)).GetProperty("history").EnumerateArray().Select(h => h.GetProperty("cause").GetString()!).ToList();
        Assert.Contains(causes, c => c.StartsWith("paused by"));
        Assert.Contains(causes, c => c.StartsWith("resumed by"));
    }

    [Fact]
    public async Task AUnitAddedByAListRevision_JoinsTheOpenPhases()
    {
        var (year, key, general) = await YearAsync(keyUnits: 2);
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct)).StatusCode);
        await AtPhaseAsync(year, At(2), "reporting");

        var joiner = await TestUnits.RegisterAsync(_cycle.Regulator, industry: "cement");
        foreach (var (y, emissions) in new[] { (year - 2, 10_000L), (year - 1, 10_000L), (year, 9000L) })
        {
            Assert.True((await _cycle.Regulator.PutAsJsonAsync($"/api/units/{joiner}/statistics/{y}", new { energyConsumptionTce = 5000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct)).IsSuccessStatusCode);
        }
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).StatusCode);

        var status = await AtPhaseAsync(year, At(3), "verification");
        Assert.Equal(2, status.GetProperty("listRevision").GetInt32());
        Assert.Equal(4, Phase(status, "reporting").GetProperty("done").GetInt32());
        Assert.StartsWith("reminder", (await StepsAsync(year, "reporting"))[joiner].GetProperty("outcome").GetString());
        Assert.Equal(2, Phase(status, "pre-allocation").GetProperty("total").GetInt32());
        await AtPhaseAsync(year, At(4), "confirmation");
        Assert.Contains(joiner, (await StepsAsync(year, "verification")).Keys);
    }

    [Fact]
    public async Task TwoStartsAtOnce_GetOneOrchestration()
    {
        var (year, _, _) = await YearAsync(keyUnits: 1);

        var starts = await Task.WhenAll(_cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct), app.Client("regulator").PostAsync($"/api/cycles/{year}/start", null, Ct));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Created], starts.Select(s => s.StatusCode).Order());
        var status = await StatusAsync(year);
        Assert.Single(status.GetProperty("history").EnumerateArray(), h => h.GetProperty("cause").GetString()!.StartsWith("started by"));
        Assert.Equal($"cycle-{year}", status.GetProperty("instanceId").GetString());
        await Eventually.HoldsAsync(async () => (await StatusAsync(year)).GetProperty("runtimeStatus").GetString() == "Running", "one instance runs");
    }

    [Fact]
    public async Task ACycle_NeedsItsSchedule_AndOnlyTheRegulatorRunsIt()
    {
        var year = 2014;

        var noSchedule = await _cycle.Regulator.PostAsync($"/api/cycles/{year}/start", null, Ct);

        Assert.Contains("no schedule", (await noSchedule.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _cycle.Regulator.GetAsync($"/api/cycles/{year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", TestUnits.NewUscc()).PostAsync($"/api/cycles/{year}/start", null, Ct)).StatusCode);
    }
}
