using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Cycle;

/// <summary>
/// A whole year for 200 key units whose outcome is known in advance: every confirmed unit gets 7,000 t pre-allocated and
/// 3,000 t topped up (historical total 10,000 t); every tenth unit never reports, so it is never confirmed and keeps
/// its 7,000 t; a third surrender all of their confirmed emissions, a third half, a third nothing. The same final ledger
/// and compliance table must come out however the year is run.
/// </summary>
public abstract class CycleReliability(CycleClockFixture app)
{
    private const int Units = 200;
    private readonly CycleDriver _cycle = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static long Confirmed(int i) => 5000 + i % 7 * 100;

    private static bool Reports(int i) => i % 10 != 9;

    private static long Surrendered(int i) => !Reports(i) ? 0 : (i % 3) switch { 0 => Confirmed(i), 1 => Confirmed(i) / 2, _ => 0 };

    /// <summary>Runs the year, restarting the app at <paramref name="restarts"/> random points (seeded), and checks the end state.</summary>
    protected async Task RunYearAsync(int restarts, int seed)
    {
        var (key, _) = await _cycle.YearAsync(Units);
        var random = new Random(seed);
        const int points = 13; // the calls of MaybeRestartAsync below, each a point where the host may be stopped
        var restartAt = Enumerable.Range(0, restarts).Select(_ => random.Next(points)).ToList();
        var point = 0;
        var restarted = 0;
        async Task MaybeRestartAsync()
        {
            for (var n = restartAt.Count(p => p == point); n > 0; n--, restarted++) await app.RestartAsync();
            point++;
        }

        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{_cycle.Year}/start", null, Ct)).StatusCode);
        await MaybeRestartAsync();
        await PhaseAsync(1, "pre-allocation", MaybeRestartAsync);
        await PhaseAsync(2, "reporting", MaybeRestartAsync);
        var reporting = new ReportingClient(app);
        await ForUnitsAsync(key, Reports, async (uscc, _) => await reporting.SubmitAsync(uscc, _cycle.Year, ReportingClient.Report()), MaybeRestartAsync);
        await PhaseAsync(3, "verification", MaybeRestartAsync);
        await PhaseAsync(4, "confirmation", MaybeRestartAsync);
        await ForUnitsAsync(key, Reports, async (uscc, i) => await new ReportingClient(app).ConfirmAsync(uscc, _cycle.Year, Confirmed(i)), MaybeRestartAsync);
        _cycle.MoveClockTo(_cycle.At(5));
        await MaybeRestartAsync();
        await _cycle.UntilAsync(_cycle.At(5), s => s.GetProperty("blocked").GetString()?.Contains($"Waiting for {Units / 10} key unit") == true, "the cycle waits for the unconfirmed");
        Assert.Equal(HttpStatusCode.OK, (await _cycle.Regulator.PostAsync($"/api/cycles/{_cycle.Year}/advance", null, Ct)).StatusCode);
        await MaybeRestartAsync();
        await PhaseAsync(6, "surrender", MaybeRestartAsync);
        await ForUnitsAsync(key, i => Surrendered(i) > 0, async (uscc, i) =>
        {
            var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/surrenders/{_cycle.Year}",
                new { transactionId = "final", items = new[] { new { product = "BEA", vintage = _cycle.Year, quantity = Surrendered(i) } } }, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Ct));
        }, MaybeRestartAsync);
        await PhaseAsync(7, "assessment", MaybeRestartAsync);
        await _cycle.UntilAsync(_cycle.At(7), s => CycleDriver.Phase(s, "assessment").GetProperty("done").GetInt32() == Units, "every unit is assessed");
        await PhaseAsync(8, "closed", MaybeRestartAsync);

        Assert.Equal((points, restarts), (point, restarted));
        await AssertOutcomeAsync(key);
    }

    private async Task PhaseAsync(int hour, string phase, Func<Task> maybeRestart)
    {
        _cycle.MoveClockTo(_cycle.At(hour));
        await maybeRestart();
        await _cycle.AtPhaseAsync(_cycle.At(hour), phase);
    }

    /// <summary>Does something for the chosen units, 8 at a time, with a chance to restart halfway.</summary>
    private static async Task ForUnitsAsync(List<string> units, Func<int, bool> chosen, Func<string, int, Task> act, Func<Task> maybeRestart)
    {
        var picked = units.Select((u, i) => (u, i)).Where(p => chosen(p.i)).ToList();
        var half = picked.Count / 2;
        await Parallel.ForEachAsync(picked[..half], new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (p, _) => await act(p.u, p.i));
        await maybeRestart();
        await Parallel.ForEachAsync(picked[half..], new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (p, _) => await act(p.u, p.i));
    }

    private async Task AssertOutcomeAsync(List<string> key)
    {
        var table = await _cycle.Regulator.GetFromJsonAsync<JsonElement>($"/api/compliance/{_cycle.Year}", Ct);
        var byUnit = table.GetProperty("units").EnumerateArray().ToDictionary(u => u.GetProperty("unit").GetString()!);
        var frozen = (await _cycle.Regulator.GetFromJsonAsync<JsonElement>($"/api/cycles/{_cycle.Year}/non-compliant", Ct))
            .EnumerateArray().Select(s => s.GetProperty("unit").GetString()!).ToHashSet();
        var ledger = new LedgerClient(app);
        for (var i = 0; i < key.Count; i++)
        {
            var row = byUnit[key[i]];
            var expected = !Reports(i) ? "no-confirmed-emissions" : Surrendered(i) == Confirmed(i) ? "compliant" : "non-compliant";
            Assert.Equal(expected, row.GetProperty("status").GetString());
            Assert.Equal(Surrendered(i), row.GetProperty("surrenderedAllowancesT").GetInt64());
            Assert.Equal(expected == "non-compliant", frozen.Contains(key[i]));
            Assert.Equal(Reports(i) ? 10_000 - Surrendered(i) : 7000, await ledger.HoldingAsync(key[i], vintage: _cycle.Year));
        }
        var status = await _cycle.StatusAsync();
        Assert.Equal(Units / 10, status.GetProperty("failures").GetArrayLength()); // the unconfirmed units' verified allocation
        Assert.All(status.GetProperty("failures").EnumerateArray(), f => Assert.Equal("verified-allocation", f.GetProperty("phase").GetString()));
        await ledger.AssertNoDriftAsync();
    }
}

[Collection(nameof(Market.RunsAlone))]
public sealed class CycleReliabilityTests(CycleClockFixture app) : CycleReliability(app), IClassFixture<CycleClockFixture>
{
    [Fact]
    public Task AYearRunStraightThrough_EndsAsExpected() => RunYearAsync(restarts: 0, seed: 0);

    [Fact]
    public Task AYearWithTheHostRestartedAt20RandomPoints_EndsTheSame() => RunYearAsync(restarts: 20, seed: 2024);
}

/// <summary>The local runtime delivering every queue message twice.</summary>
public sealed class TwiceDeliveredFixture : CycleClockFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings) { ["Ets:FaultInjection:DeliverTwice"] = "true" };
}

[Collection(nameof(Market.RunsAlone))]
public sealed class CycleTwiceDeliveredTests(TwiceDeliveredFixture app) : CycleReliability(app), IClassFixture<TwiceDeliveredFixture>
{
    [Fact]
    public Task AYearWithEveryMessageDeliveredTwice_EndsTheSame() => RunYearAsync(restarts: 0, seed: 0);
}
