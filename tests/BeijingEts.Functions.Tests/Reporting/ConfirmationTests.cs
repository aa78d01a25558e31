namespace BeijingEts.Functions.Tests.Reporting;

public sealed class ConfirmationFixture : EtsAppFixture;

public sealed class ConfirmationTests(ConfirmationFixture app) : IClassFixture<ConfirmationFixture>
{
    private const int Year = 2025;
    private readonly ReportingClient _reporting = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> ConfirmAsync(string uscc, object body) =>
        _reporting.Regulator.PostAsJsonAsync($"/api/units/{uscc}/reports/{Year}/confirmation", body, Ct);

    [Fact]
    public async Task Adjusted_RecordsTheFigureTheReasonAndTheReportVersion()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());

        var response = await ConfirmAsync(uscc, new { confirmedEmissions = 5100, basis = "adjusted", reason = "spot check found unreported diesel" });
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync($"/api/units/{uscc}/reports/{Year}/confirmation", Ct)).StatusCode); // not before approval
        Assert.Empty(await app.Client("unit", uscc).NoticesAsync("emissions.confirmed")); // nor told before

        await app.ApproveAsync(response);
        var read = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/confirmation", Ct);
        Assert.Equal(5100, read.GetProperty("confirmedEmissionsT").GetInt64());
        Assert.Equal("adjusted", read.GetProperty("basis").GetString());
        Assert.Equal(1, read.GetProperty("reportVersion").GetInt32());
        Assert.Equal(5029, read.GetProperty("reportedEmissionsT").GetInt64());
        Assert.Equal("clinker-t", read.GetProperty("activity")[0].GetProperty("product").GetString());
        // The unit is told the figure its surrender is measured against, and why it differs from its report.
        var told = Assert.Single(await app.Client("unit", uscc).NoticesAsync("emissions.confirmed"));
        Assert.Contains($"confirmed your {Year} emissions as 5100 t (Art. 23), set by the regulator (you reported 5029 t) because: spot check found unreported diesel", told.GetProperty("bodyEn").GetString());
        Assert.Contains("碳排放量为 5100 吨", told.GetProperty("bodyZh").GetString());
        Assert.Empty(await _reporting.Regulator.NoticesAsync("emissions.confirmed"));

        // Confirmed again with the same figure (a retried approval), it is told once; a new figure is told.
        var confirmations = app.Service<BeijingEts.Functions.Reporting.EmissionConfirmations>();
        var regulator = new BeijingEts.Functions.Auth.Actor("local:regulator", "regulator", null);
        var current = (await app.Service<BeijingEts.Functions.Reporting.ConfirmationStore>().FindAsync(Year, uscc, Ct))!;
        await confirmations.SaveAsync(current, regulator, Ct);
        Assert.Single(await app.Client("unit", uscc).NoticesAsync("emissions.confirmed"));
        await app.ApproveAsync(await ConfirmAsync(uscc, new { confirmedEmissions = 5200, basis = "adjusted", reason = "expert review" }));
        Assert.Equal(2, (await app.Client("unit", uscc).NoticesAsync("emissions.confirmed")).Count);
        // Back to the first figure: told again, so the unit's latest notice is the figure its surrender is measured against.
        await app.ApproveAsync(await ConfirmAsync(uscc, new { confirmedEmissions = 5100, basis = "adjusted", reason = "spot check found unreported diesel" }));
        var notices = await app.Client("unit", uscc).NoticesAsync("emissions.confirmed");
        Assert.Equal(3, notices.Count);
        Assert.Equal(2, notices.Count(n => n.GetProperty("bodyZh").GetString()!.Contains("碳排放量为 5100 吨", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Adjusted_ProposedOnAVersionSinceReplaced_FailsOnApproval_AndConfirmsNothing()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
        var proposed = await ConfirmAsync(uscc, new { confirmedEmissions = 6000, basis = "adjusted", reason = "expert review" });
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report(coal: 1200)); // version 2, filed while the proposal waits

        var ended = await app.ApproveAsync(proposed, expectedStatus: "failed");

        Assert.Contains("report version 2", ended.GetProperty("failureReason").GetString());
        Assert.Empty(await app.Client("unit", uscc).NoticesAsync("emissions.confirmed"));
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync($"/api/units/{uscc}/reports/{Year}/confirmation", Ct)).StatusCode);
    }

    [Fact]
    public async Task Refusals_SayWhatIsMissing()
    {
        await _reporting.SetFactorsAsync(Year);
        var key = await _reporting.ListedUnitAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false);

        Assert.Contains("not reported", (await (await ConfirmAsync(key, new { confirmedEmissions = 10, basis = "adjusted", reason = "r" })).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        await _reporting.SubmitAsync(key, Year, ReportingClient.Report());
        Assert.Contains("reason", (await (await ConfirmAsync(key, new { confirmedEmissions = 10, basis = "adjusted" })).AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("not accepted", (await (await ConfirmAsync(key, new { confirmedEmissions = 5029, basis = "verified" })).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("not a key unit", (await (await ConfirmAsync(general, new { confirmedEmissions = 10, basis = "adjusted", reason = "r" })).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", key).PostAsJsonAsync($"/api/units/{key}/reports/{Year}/confirmation",
            new { confirmedEmissions = 1, basis = "adjusted", reason = "mine" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync($"/api/units/{key}/reports/{Year}/confirmation", Ct)).StatusCode);
    }
}
