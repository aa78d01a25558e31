using System.Text;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Cycle;

/// <summary>
/// Sets up a year (cement units with two base years of 10,000 t, the list, a plan, factors, an hourly schedule from the
/// fake clock's now) and drives its cycle: moves the fake clock, lets the year's orchestration see it, reads the status. Makes its
/// clients afresh, so it keeps working across restarts of the app.
/// </summary>
public sealed class CycleDriver(CycleClockFixture app)
{
    /// <summary>
    /// Each year its own cycle, so tests never meet; all before 2026, so their reports are due on the fake clock. Counted
    /// per app (each test class has storage of its own): a count shared by every class ran past 2025 once enough of them
    /// had run in one process, and the reports of a later class were refused as not yet due.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> YearsTaken = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public int Year { get; private set; }

    /// <summary>Where the schedule starts: the fake clock only moves forward, and the tests share it.</summary>
    public DateTimeOffset Origin { get; private set; }

    public HttpClient Regulator => app.Client("regulator");

    public DateTimeOffset At(int hour) => Origin.AddHours(hour);

    /// <summary>Registers the units by statistics import (key units at 9,000 t in the year, general ones at 3,000 t) and readies the year.</summary>
    public async Task<(List<string> Key, List<string> General)> YearAsync(int keyUnits, int generalUnits = 0)
    {
        Year = 2015 + YearsTaken.AddOrUpdate(app.Prefix, 1, (_, taken) => taken + 1);
        Assert.True(Year <= 2025, $"The test class took more than ten years; the fake clock's {Year} has not ended.");
        Origin = app.Clock.GetUtcNow();
        var key = Enumerable.Range(0, keyUnits).Select(_ => TestUnits.NewUscc()).ToList();
        var general = Enumerable.Range(0, generalUnits).Select(_ => TestUnits.NewUscc()).ToList();
        var regulator = Regulator;
        foreach (var (year, registering) in new[] { (Year - 2, true), (Year - 1, false), (Year, false) })
        {
            var csv = new StringBuilder("uscc,name,district,industry,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n");
            foreach (var uscc in key.Concat(general))
            {
                var emissions = year < Year ? 10_000 : key.Contains(uscc) ? 9000 : 3000;
                csv.Append($"{uscc},测试单位 {uscc[^6..]},朝阳区,cement,5000,{emissions},0\n");
            }
            var import = await regulator.PostAsync($"/api/lists/{year}/statistics", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"), Ct);
            Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync(Ct));
        }
        Assert.True((await regulator.PostAsync($"/api/lists/{Year}/publish", null, Ct)).IsSuccessStatusCode);
        await app.ApproveAsync(await regulator.PutAsJsonAsync($"/api/allocation/{Year}/plan", new
        {
            cap = 100_000_000L, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { Year - 2, Year - 1 }, controlFactor = 1.0m } },
        }, Ct));
        Assert.True((await regulator.PutAsJsonAsync($"/api/reference/{Year}/emission-factors", ReportingClient.Factors, Ct)).IsSuccessStatusCode);
        var schedule = new
        {
            listPublication = At(1), preAllocation = At(2), reportsDue = At(3), verificationDue = At(4),
            confirmationDue = At(5), verifiedAllocation = At(6), surrenderDue = At(7), close = At(8),
        };
        Assert.Equal(HttpStatusCode.OK, (await regulator.PutAsJsonAsync($"/api/cycles/{Year}/schedule", schedule, Ct)).StatusCode);
        return (key, general);
    }

    public async Task<JsonElement> StatusAsync() => await Regulator.GetFromJsonAsync<JsonElement>($"/api/cycles/{Year}", Ct);

    /// <summary>Moves the fake clock to <paramref name="at"/> (never back).</summary>
    public void MoveClockTo(DateTimeOffset at)
    {
        if (at > app.Clock.GetUtcNow()) app.Clock.SetUtcNow(at);
    }

    /// <summary>Moves the clock to <paramref name="at"/>, then waits until the cycle is in the phase.</summary>
    public async Task<JsonElement> AtPhaseAsync(DateTimeOffset at, string phase)
    {
        MoveClockTo(at);
        return await UntilAsync(at, s => s.GetProperty("phase").GetString() == phase, $"the {Year} cycle reaches {phase}");
    }

    /// <summary>Nudges the cycle (see <see cref="NudgeAsync"/>) until the status satisfies the condition (a liveness bound: 200 units on a busy 2-core machine).</summary>
    public async Task<JsonElement> UntilAsync(DateTimeOffset at, Func<JsonElement, bool> condition, string because)
    {
        JsonElement status = default;
        await Eventually.HoldsAsync(async () =>
        {
            await NudgeAsync(at);
            status = await StatusAsync();
            return condition(status);
        }, because, TimeSpan.FromSeconds(180));
        return status;
    }

    /// <summary>
    /// Moves the fake clock 5 s, but never more than 30 minutes past <paramref name="at"/>, so a slow machine cannot carry
    /// the clock into the next phase's due time; past that, wakes the year's orchestration instead.
    /// </summary>
    public async Task NudgeAsync(DateTimeOffset at)
    {
        if (app.Clock.GetUtcNow() < at.AddMinutes(30)) app.Clock.Advance(TimeSpan.FromSeconds(5));
        else await app.Service<BeijingEts.Functions.Cycle.CycleInstances>().WakeAsync(Year);
    }

    public async Task<IReadOnlyDictionary<string, JsonElement>> StepsAsync(string phase) =>
        (await Regulator.GetFromJsonAsync<JsonElement>($"/api/cycles/{Year}/phases/{phase}", Ct)).EnumerateArray().ToDictionary(s => s.GetProperty("unit").GetString()!);

    /// <summary>The reasons the phase's failed steps give, each with how many units give it: what a failing test should print.</summary>
    public static string FailureReasons(JsonElement status, string phase) => string.Join("; ", status.GetProperty("failures").EnumerateArray()
        .Where(f => f.GetProperty("phase").GetString() == phase)
        .GroupBy(f => $"{f.GetProperty("reason").GetString()} (attempts {f.GetProperty("attempts").GetInt32()})")
        .Select(g => $"{g.Count()} x {g.Key}"));

    public static JsonElement Phase(JsonElement status, string name) => status.GetProperty("phases").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
}
