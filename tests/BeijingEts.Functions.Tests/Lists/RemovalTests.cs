namespace BeijingEts.Functions.Tests.Lists;

public sealed class RemovalsFixture : EtsAppFixture;

public sealed class RemovalTests(RemovalsFixture app) : IClassFixture<RemovalsFixture>
{
    private const int ListYear = 2022;
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task PutFiguresAsync(string uscc, int year, long emissions)
    {
        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 3000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct);
        Assert.True(response.IsSuccessStatusCode);
    }

    /// <summary>A unit in 丰台区 that the newest published list has as a key unit.</summary>
    private async Task<string> KeyUnitAsync(long emissions = 8000, string industry = "cement")
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, district: "丰台区", industry: industry);
        await PutFiguresAsync(uscc, ListYear, emissions);
        Assert.True((await _regulator.PostAsync($"/api/lists/{ListYear}/publish", null, Ct)).IsSuccessStatusCode);
        return uscc;
    }

    private async Task<HttpResponseMessage> RequestAsync(string uscc, string reason = "ceased", string effectiveOn = "2026-04-30", HttpClient? client = null) =>
        await (client ?? app.Client("unit", uscc)).PostAsJsonAsync($"/api/units/{uscc}/removals", new { reason, effectiveOn, explanation = "停产关闭" }, Ct);

    private async Task<string> OpenRemovalAsync(string uscc)
    {
        var response = await RequestAsync(uscc);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Removal_ConfirmedByDistrictThenRegulator_RemovesTheUnitWithItsDeadlines()
    {
        var uscc = await KeyUnitAsync();
        var id = await OpenRemovalAsync(uscc);
        // Art. 9: the district bureau, which verifies it first, and the regulator, which confirms it after, are told; no other district.
        var toVerify = (await app.Client("district", "丰台区").NoticeAsync($"removal-{id}-requested"))!.Value;
        Assert.Contains("Please verify it and confirm or reject it", toVerify.GetProperty("bodyEn").GetString());
        Assert.Contains("停产关闭", toVerify.GetProperty("bodyZh").GetString());
        Assert.Contains("丰台区生态环境局核实确认", (await _regulator.NoticeAsync($"removal-{id}-requested"))!.Value.GetProperty("bodyZh").GetString());
        Assert.Null(await app.Client("district", "海淀区").NoticeAsync($"removal-{id}-requested"));
        Assert.Null(await _regulator.NoticeAsync($"removal-{id}-district-confirmed"));

        var byDistrict = await app.Client("district", "丰台区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        Assert.Equal(HttpStatusCode.OK, byDistrict.StatusCode);
        Assert.Equal("removal.district-confirmed", (await _regulator.NoticeAsync($"removal-{id}-district-confirmed"))!.Value.GetProperty("kind").GetString());
        Assert.Null(await app.Client("unit", uscc).NoticeAsync($"removal-{id}-confirmed"));
        var confirmed = await _regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        await (await _regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        // The unit is told its outcome once, with the deadline to close its account.
        var told = Assert.Single(await app.Client("unit", uscc).NoticesAsync("removal.confirmed"));
        Assert.Equal($"removal-{id}-confirmed", told.GetProperty("id").GetString());
        Assert.Contains("off the key-unit list from 2026-04-30 (Art. 9). Close your registry account by 2029-04-30", told.GetProperty("bodyEn").GetString());
        Assert.Contains("请于 2029-04-30 前注销登记账户", told.GetProperty("bodyZh").GetString());
        Assert.Null(await _regulator.NoticeAsync($"removal-{id}-confirmed"));

        var removal = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/removals/{id}", Ct);
        Assert.Equal("confirmed", removal.GetProperty("state").GetString());
        Assert.Equal("2029-04-30", removal.GetProperty("accountCancellationDeadline").GetString());
        Assert.Equal(2026, removal.GetProperty("reclaimPreAllocationYear").GetInt32());
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("removed", unit.GetProperty("status").GetString());
        Assert.Equal("2026-04-30", unit.GetProperty("removedOn").GetString());
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=removals/{id}", Ct);
        Assert.Equal(["removal.confirmed", "removal.district-confirmed", "removal.requested"],
            trail.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task ReportingUnit_CannotBeRemovedFromTheKeyList()
    {
        var uscc = await KeyUnitAsync(emissions: 100);

        var response = await RequestAsync(uscc);

        Assert.Contains("not a key unit", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task SecondRemovalWhileOneIsOpen_Gives409UntilTheFirstIsRejected()
    {
        var uscc = await KeyUnitAsync();
        var id = await OpenRemovalAsync(uscc);

        var second = await RequestAsync(uscc, client: app.Client("district", "丰台区"));
        Assert.Contains(id, (await second.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        Assert.Single(await _regulator.NoticesAsync("removal.requested"), n => n.GetProperty("bodyEn").GetString()!.Contains(uscc, StringComparison.Ordinal)); // the refused one told nobody

        var rejected = await app.Client("district", "丰台区").PostAsJsonAsync($"/api/removals/{id}/rejection", new { reason = "仍在生产" }, Ct);
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var refused = (await app.Client("unit", uscc).NoticeAsync($"removal-{id}-rejected"))!.Value;
        Assert.Equal("removal.rejected", refused.GetProperty("kind").GetString());
        Assert.Contains("被驳回：仍在生产", refused.GetProperty("bodyZh").GetString());
        Assert.Contains("was refused: 仍在生产. You remain a key unit", refused.GetProperty("bodyEn").GetString());
        Assert.Empty(await app.Client("unit", uscc).NoticesAsync("removal.confirmed"));
        Assert.Equal(HttpStatusCode.Created, (await RequestAsync(uscc)).StatusCode);
    }

    [Fact]
    public async Task Confirmations_OutOfOrderOrByTheWrongDistrict_AreRefused()
    {
        var uscc = await KeyUnitAsync();
        var id = await OpenRemovalAsync(uscc);

        var early = await _regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct);
        Assert.Contains("丰台区生态环境局", (await early.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        var wrongDistrict = await app.Client("district", "海淀区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        await wrongDistrict.AssertProblemAsync(HttpStatusCode.Forbidden);
        var byUnit = await app.Client("unit", uscc).PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        await byUnit.AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "丰台区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct)).StatusCode);
        var twice = await app.Client("district", "丰台区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        await twice.AssertProblemAsync(HttpStatusCode.Conflict);
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("active", unit.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AnotherDistrict_CannotRequestTheRemoval()
    {
        var uscc = await KeyUnitAsync();

        var response = await RequestAsync(uscc, client: app.Client("district", "朝阳区"));

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task BelowThresholdThreeYears_NeedsThreeYearsOfStatisticsUnderTheKeyThreshold()
    {
        var uscc = await KeyUnitAsync();
        await PutFiguresAsync(uscc, 2023, 4000);
        await PutFiguresAsync(uscc, 2024, 4999);

        var missingYear = await RequestAsync(uscc, "below-threshold-3-years", "2026-01-01");
        Assert.Contains("2023-2025", (await missingYear.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);

        await PutFiguresAsync(uscc, 2025, 5000);
        var atThreshold = await RequestAsync(uscc, "below-threshold-3-years", "2026-01-01");
        await atThreshold.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        await PutFiguresAsync(uscc, 2025, 4999);
        var below = await RequestAsync(uscc, "below-threshold-3-years", "2026-01-01");
        Assert.Equal(HttpStatusCode.Created, below.StatusCode);
        Assert.Equal("below-threshold-3-years", (await below.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reason").GetString());
    }
}

public sealed class RemovedUnitListFixture : EtsAppFixture;

/// <summary>Publishes a later year's list, so it has a fixture of its own: the others rely on 2022 being the newest list.</summary>
public sealed class RemovedUnitListTests(RemovedUnitListFixture app) : IClassFixture<RemovedUnitListFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RemovedUnit_IsNoLongerKeyOnTheListOfItsEffectiveYear()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, district: "丰台区");
        foreach (var year in new[] { 2025, 2026 })
        {
            await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 3000, directEmissionsT = 9000, indirectEmissionsT = 0 }, Ct);
        }
        await _regulator.PostAsync("/api/lists/2025/publish", null, Ct);
        var requested = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/removals", new { reason = "relocated", effectiveOn = "2026-04-30", explanation = "迁出本市" }, Ct);
        var id = (await requested.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        await app.Client("district", "丰台区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        await _regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct);

        await _regulator.PostAsync("/api/lists/2026/publish", null, Ct);

        var before = await app.Client().GetFromJsonAsync<JsonElement>("/api/lists/2025", Ct);
        var after = await app.Client().GetFromJsonAsync<JsonElement>("/api/lists/2026", Ct);
        Assert.Equal("key", before.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("uscc").GetString() == uscc).GetProperty("category").GetString());
        Assert.Equal("reporting", after.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("uscc").GetString() == uscc).GetProperty("category").GetString());
    }
}
