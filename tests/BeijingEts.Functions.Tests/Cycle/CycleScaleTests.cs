using BeijingEts.Functions.Tests.Ledger;

namespace BeijingEts.Functions.Tests.Cycle;

/// <summary>
/// Years of thousands of units on the durable engine: every unit's step runs once in batches, a kill in the middle of a
/// batch loses nothing, and what the status reports agrees with the ledger.
/// </summary>
[Collection(nameof(Market.RunsAlone))]
public sealed class CycleScaleTests(CycleClockFixture app) : IClassFixture<CycleClockFixture>
{
    private readonly CycleDriver _cycle = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AYearOf2000Units_RunsEveryUnitThroughEveryPhase()
    {
        const int units = 2000;
        var (key, _) = await _cycle.YearAsync(units);
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{_cycle.Year}/start", null, Ct)).StatusCode);

        await _cycle.AtPhaseAsync(_cycle.At(2), "reporting");
        await _cycle.AtPhaseAsync(_cycle.At(3), "verification");
        await _cycle.AtPhaseAsync(_cycle.At(4), "confirmation");
        _cycle.MoveClockTo(_cycle.At(5));
        await _cycle.UntilAsync(_cycle.At(5), s => s.GetProperty("blocked").GetString()?.Contains($"Waiting for {units} key unit") == true, "the cycle waits for confirmations");
        Assert.Equal(HttpStatusCode.OK, (await _cycle.Regulator.PostAsync($"/api/cycles/{_cycle.Year}/advance", null, Ct)).StatusCode);
        await _cycle.AtPhaseAsync(_cycle.At(6), "surrender");
        await _cycle.AtPhaseAsync(_cycle.At(7), "assessment");
        var closed = await _cycle.AtPhaseAsync(_cycle.At(8), "closed");

        foreach (var (phase, done, failed) in new[]
        {
            ("pre-allocation", units, 0), ("reporting", units, 0), ("verification", units, 0), ("confirmation", units, 0),
            ("verified-allocation", 0, units), ("assessment", units, 0),
        })
        {
            var counts = CycleDriver.Phase(closed, phase);
            var actual = (phase, counts.GetProperty("total").GetInt32(), counts.GetProperty("done").GetInt32(), counts.GetProperty("failed").GetInt32());
            Assert.True((phase, units, done, failed) == actual, $"Expected {(phase, units, done, failed)}, found {actual}; failures: {CycleDriver.FailureReasons(closed, phase)}");
        }
        // Nobody reported, so nobody was confirmed: each keeps its pre-allocation, and the verified allocation failed, visibly, for each.
        Assert.All(closed.GetProperty("failures").EnumerateArray(), f => Assert.Contains("not confirmed", f.GetProperty("reason").GetString()));
        var ledger = new LedgerClient(app);
        foreach (var unit in key.Take(20)) Assert.Equal(7000, await ledger.HoldingAsync(unit, vintage: _cycle.Year));
        var assessed = await _cycle.StepsAsync("assessment");
        Assert.Equal(key.Order(StringComparer.Ordinal), assessed.Keys.Order(StringComparer.Ordinal));
        Assert.All(assessed.Values, s => Assert.Equal("no-confirmed-emissions", s.GetProperty("outcome").GetString()));
        await ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task AKillInTheMiddleOfABatch_LosesNoStepAndRunsNoneTwiceOnTheLedger()
    {
        const int units = 300;
        var (key, _) = await _cycle.YearAsync(units);
        Assert.Equal(HttpStatusCode.Created, (await _cycle.Regulator.PostAsync($"/api/cycles/{_cycle.Year}/start", null, Ct)).StatusCode);
        await _cycle.AtPhaseAsync(_cycle.At(2), "reporting");

        // The first reporting step of one unit holds its batch up; the app is killed while it does.
        var held = app.Faults.Hold(_cycle.Year, "Reporting", key[150]);
        _cycle.MoveClockTo(_cycle.At(3));
        await held.Reached.WaitAsync(TimeSpan.FromSeconds(120), Ct);
        var before = CycleDriver.Phase(await _cycle.StatusAsync(), "reporting").GetProperty("done").GetInt32();
        await app.KillAsync();
        // The killed app's batch goes on and tries to write its steps after the new app ran them again.
        held.Release();

        var status = await _cycle.AtPhaseAsync(_cycle.At(3), "verification");
        Assert.True(before < units, $"Every step was done before the kill ({before}); the test proves nothing.");
        var reporting = CycleDriver.Phase(status, "reporting");
        Assert.Equal((units, units, 0), (reporting.GetProperty("total").GetInt32(), reporting.GetProperty("done").GetInt32(), reporting.GetProperty("failed").GetInt32()));
        var steps = await _cycle.StepsAsync("reporting");
        Assert.Equal(key.Order(StringComparer.Ordinal), steps.Keys.Order(StringComparer.Ordinal));
        Assert.All(steps.Values, s => Assert.StartsWith("reminder", s.GetProperty("outcome").GetString()));
        var ledger = new LedgerClient(app);
        foreach (var unit in key.Take(20)) Assert.Equal(7000, await ledger.HoldingAsync(unit, vintage: _cycle.Year));
        await ledger.AssertNoDriftAsync();
    }
}
