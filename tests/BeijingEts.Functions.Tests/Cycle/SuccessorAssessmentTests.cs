using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Cycle;

public sealed class SuccessorAssessmentFixture : EtsAppFixture;

/// <summary>
/// Art. 8, 27, 29: a successor that inherits a year's obligation in a merger is assessed with the year's key units,
/// though it is not on the year's list; falling short, it is on the frozen list and has its enforcement case.
/// </summary>
public sealed class SuccessorAssessmentTests(SuccessorAssessmentFixture app) : IClassFixture<SuccessorAssessmentFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static int Year => ReportingClient.CurrentYear - 1;

    [Fact]
    public async Task ASuccessorOffTheList_IsAssessedOnWhatItInherited()
    {
        await _reporting.SetFactorsAsync(Year);
        var predecessor = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(predecessor, Year, ReportingClient.Report());
        await _reporting.ConfirmAsync(predecessor, Year, 1_000);
        var successor = await TestUnits.RegisterAsync(_reporting.Regulator);
        var today = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var registered = await app.Client("unit", predecessor).PostAsJsonAsync($"/api/units/{predecessor}/changes", new { kind = "merger", registeredOn = today, successors = new[] { successor } }, Ct);
        Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync(Ct));
        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        Assert.True((await app.Client("district", "朝阳区").PostAsync($"/api/changes/{id}/district-confirmation", null, Ct)).IsSuccessStatusCode);
        var confirmed = await _reporting.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        Assert.True(confirmed.IsSuccessStatusCode, await confirmed.Content.ReadAsStringAsync(Ct));

        var phases = app.Service<CyclePhases>();
        var (_, assessed) = await phases.UnitsAsync(Year, CyclePhase.Assessment, Ct);
        Assert.Contains(successor, assessed);
        Assert.Contains(predecessor, assessed);
        var (_, allocated) = await phases.UnitsAsync(Year, CyclePhase.VerifiedAllocation, Ct);
        Assert.DoesNotContain(successor, allocated); // it inherits the obligation, not an allocation

        // The deadline passes with nothing surrendered: the successor owes the 1,000 t it inherited.
        var past = DateTimeOffset.UtcNow.AddDays(-1);
        Assert.Equal(HttpStatusCode.OK, (await _reporting.Regulator.PutAsJsonAsync($"/api/cycles/{Year}/schedule", new
        {
            listPublication = past.AddDays(-300), preAllocation = past.AddDays(-290), reportsDue = past.AddDays(-200), verificationDue = past.AddDays(-150),
            confirmationDue = past.AddDays(-100), verifiedAllocation = past.AddDays(-90), surrenderDue = past, close = past.AddDays(10),
        }, Ct)).StatusCode);
        var schedule = (await app.Service<CycleScheduleStore>().FindAsync(Year, Ct))!;
        var step = await phases.RunStepAsync(Year, CyclePhase.Assessment, successor, schedule, StepInputs.None, Ct);

        Assert.Equal("non-compliant: shortfall 1000 t of 1000 t", Assert.IsType<StepResult.Done>(step).Outcome);
        await phases.FinishBatchAsync(Year, CyclePhase.Assessment, [successor], StepInputs.None, Ct); // what the engine does with the batch's done steps
        var opened = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/cases/nc-{Year}-{successor}", Ct);
        Assert.Equal((1_000L, successor), (opened.GetProperty("shortfallT").GetInt64(), opened.GetProperty("party").GetProperty("id").GetString()));
    }
}
