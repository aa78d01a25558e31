using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Ledger;

/// <summary>Art. 8-9: a merger or split moves holdings and obligations only once the district and then the regulator confirm it.</summary>
public sealed class SuccessionTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Today => DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd");

    private async Task<JsonElement> RegisterAsync(string unit, string kind, string[] successors, int[]? shares = null)
    {
        var response = await app.Client("unit", unit).PostAsJsonAsync($"/api/units/{unit}/changes", new { kind, registeredOn = Today, successors, shares }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>The district bureau's and then the regulator's confirmation; the regulator's answer.</summary>
    private async Task<JsonElement> ConfirmAsync(string id, string district = "朝阳区")
    {
        var byDistrict = await app.Client("district", district).PostAsync($"/api/changes/{id}/district-confirmation", null, Ct);
        Assert.True(byDistrict.IsSuccessStatusCode, await byDistrict.Content.ReadAsStringAsync(Ct));
        var byRegulator = await _ledger.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        Assert.True(byRegulator.IsSuccessStatusCode, await byRegulator.Content.ReadAsStringAsync(Ct));
        return await byRegulator.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private async Task AssertTransfersCompletedAsync(JsonElement change)
    {
        foreach (var transfer in change.GetProperty("holdingTransfers").EnumerateArray())
        {
            Assert.Equal("completed", (await _ledger.OutcomeAsync(transfer.GetProperty("transactionId").GetString()!)).GetProperty("status").GetString());
        }
    }

    private async Task<string> StatusAsync(string unit) =>
        (await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{unit}", Ct)).GetProperty("status").GetString()!;

    [Fact]
    public async Task Harm3_AMergerByTheUnitAlone_MovesNothing_UntilItsDistrictAndTheRegulatorConfirm()
    {
        var unit = await _ledger.NewAccountAsync();
        var elsewhere = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1000, vintage: 2034);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 1000, vintage: 2034);

        var change = await RegisterAsync(unit, "merger", [elsewhere]);
        var id = change.GetProperty("id").GetString()!;

        Assert.Equal("active", await StatusAsync(unit));
        Assert.Equal(1000, await _ledger.HoldingAsync(unit, vintage: 2034));
        Assert.Equal("pending-district-confirmation", change.GetProperty("state").GetString());
        var byItself = await app.Client("unit", unit).PostAsync($"/api/changes/{id}/district-confirmation", null, Ct);
        var byItselfAsRegulator = await app.Client("unit", unit).PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        var bySuccessor = await app.Client("unit", elsewhere).PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        var byAnotherDistrict = await app.Client("district", "海淀区").PostAsync($"/api/changes/{id}/district-confirmation", null, Ct);
        var byRegulatorFirst = await _ledger.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, byItself.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byItselfAsRegulator.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bySuccessor.StatusCode);
        Assert.Contains("only 朝阳区", (await byAnotherDistrict.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
        Assert.Contains("awaits confirmation by", (await byRegulatorFirst.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        Assert.Equal("active", await StatusAsync(unit));
        Assert.Equal(1000, await _ledger.HoldingAsync(unit, vintage: 2034));
        Assert.Equal(0, await _ledger.HoldingAsync(elsewhere, vintage: 2034));

        var confirmed = await ConfirmAsync(id);

        Assert.Equal("confirmed", confirmed.GetProperty("state").GetString());
        await AssertTransfersCompletedAsync(confirmed);
        Assert.Equal("succeeded", await StatusAsync(unit));
        Assert.Equal(0, await _ledger.HoldingAsync(unit, vintage: 2034));
        Assert.Equal(1000, await _ledger.HoldingAsync(elsewhere, vintage: 2034));
        // Sent again (as after a stop between saving and submitting): it finishes, and moves nothing twice.
        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct)).StatusCode);
        await AssertTransfersCompletedAsync(confirmed);
        Assert.Equal(1000, await _ledger.HoldingAsync(elsewhere, vintage: 2034));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task Split_PassesHoldingsInWholeTonneSharesAndConserves()
    {
        var unit = await _ledger.NewAccountAsync();
        var first = await _ledger.NewAccountAsync();
        var second = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1001, vintage: 2033);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 1001, vintage: 2033);
        await _ledger.SettleAsync(_ledger.Regulator, "deposit", null, unit, 10, 2024, "BCER", "BCER-7-0001");

        var registered = await RegisterAsync(unit, "split", [first, second]);
        var confirmed = await ConfirmAsync(registered.GetProperty("id").GetString()!);

        Assert.Equal(4, confirmed.GetProperty("holdingTransfers").GetArrayLength());
        await AssertTransfersCompletedAsync(confirmed);
        Assert.Equal(501, await _ledger.HoldingAsync(first, vintage: 2033));
        Assert.Equal(500, await _ledger.HoldingAsync(second, vintage: 2033));
        Assert.Equal(5, await _ledger.HoldingAsync(second, "BCER", 2024));
        Assert.Equal(0, await _ledger.HoldingAsync(unit, vintage: 2033));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task Split_PassesTheYearsObligationInTheRegisteredShares_AndTheSuccessorSurrendersAgainstIt()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var unit = await reporting.ListedUnitAsync(year);
        await reporting.SubmitAsync(unit, year, ReportingClient.Report());
        await reporting.ConfirmAsync(unit, year, 1000);
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1200, vintage: year);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 1200, vintage: year);
        var first = await _ledger.NewAccountAsync();
        var second = await _ledger.NewAccountAsync();
        var surrendered = await app.Client("unit", unit).PostAsJsonAsync($"/api/units/{unit}/surrenders/{year}",
            new { transactionId = "before-split", items = new[] { new { product = "BEA", vintage = year, quantity = 100 } } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, surrendered.StatusCode);
        await ComplianceAsync(unit, year, v => v.GetProperty("surrenderedAllowancesT").GetInt64() == 100);

        var registered = await RegisterAsync(unit, "split", [first, second], shares: [3, 1]);
        var before = await ComplianceAsync(second, year, _ => true);
        Assert.Equal("no-confirmed-emissions", before.GetProperty("status").GetString());
        var confirmed = await ConfirmAsync(registered.GetProperty("id").GetString()!);
        await AssertTransfersCompletedAsync(confirmed);

        // 900 t were still owed: 3:1 is 675 t and 225 t; the unit keeps the 100 t it surrendered.
        Assert.Contains(year, confirmed.GetProperty("obligationYears").EnumerateArray().Select(y => y.GetInt32()));
        var predecessor = await ComplianceAsync(unit, year, _ => true);
        Assert.Equal(1000, predecessor.GetProperty("confirmedEmissionsT").GetInt64());
        Assert.Equal(900, predecessor.GetProperty("passedToSuccessorsT").GetInt64());
        Assert.Equal(100, predecessor.GetProperty("obligationT").GetInt64());
        Assert.Equal("compliant", predecessor.GetProperty("status").GetString());
        var firstView = await ComplianceAsync(first, year, _ => true);
        Assert.Equal(675, firstView.GetProperty("inheritedT").GetInt64());
        Assert.Equal(675, firstView.GetProperty("shortfallT").GetInt64());
        Assert.Equal(38, firstView.GetProperty("offsetLimitT").GetInt64()); // the unused 50 t of offset room, 3:1
        Assert.Equal("open", firstView.GetProperty("status").GetString());
        Assert.Equal(225, (await ComplianceAsync(second, year, _ => true)).GetProperty("shortfallT").GetInt64());
        Assert.Equal(825, await _ledger.HoldingAsync(first, vintage: year));

        var bySuccessor = await app.Client("unit", first).PostAsJsonAsync($"/api/units/{first}/surrenders/{year}",
            new { transactionId = "inherited", items = new[] { new { product = "BEA", vintage = year, quantity = 676 } } }, Ct);
        Assert.Contains("at most 675 t more", (await bySuccessor.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        bySuccessor = await app.Client("unit", first).PostAsJsonAsync($"/api/units/{first}/surrenders/{year}",
            new { transactionId = "inherited", items = new[] { new { product = "BEA", vintage = year, quantity = 675 } } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, bySuccessor.StatusCode);
        var settled = await ComplianceAsync(first, year, v => v.GetProperty("status").GetString() == "compliant");
        Assert.Equal(675, settled.GetProperty("surrenderedAllowancesT").GetInt64());

        var table = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/compliance/{year}", Ct);
        var rows = table.GetProperty("units").EnumerateArray().Where(u => u.GetProperty("unit").GetString() is { } code && (code == unit || code == first || code == second)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(1000, rows.Sum(r => r.GetProperty("obligationT").GetInt64()));
        Assert.Equal(225, rows.Sum(r => r.GetProperty("shortfallT").GetInt64()));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task AConfirmationThatStoppedBeforeItTookEffect_IsFinishedByTheTimer_Once()
    {
        var unit = await _ledger.NewAccountAsync();
        var successor = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 300, vintage: 2035);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 300, vintage: 2035);
        // Confirmed and saved two minutes ago, then the process stopped: the unit is active and nothing has moved.
        var at = DateTimeOffset.UtcNow.AddMinutes(-2);
        var change = Domain.Lists.UnitChange.Succession(Guid.NewGuid().ToString("N"), unit, "朝阳区", "merger", DateOnly.FromDateTime(at.UtcDateTime),
                DateOnly.FromDateTime(at.UtcDateTime).AddDays(28), DateOnly.FromDateTime(at.UtcDateTime), "旧单位", [successor], null, $"local:unit:{unit}", at)
            .ConfirmByDistrict(true, "local:district", at).Change
            .Confirm("local:regulator", at, [], [new Domain.Lists.HeldQuantity("BEA", 2035, null, new Domain.Ledger.Tonnes(300))]).Change;
        await app.Service<BeijingEts.Functions.Lists.UnitChangeStore>().AddAsync(change, Ct);
        Assert.Equal("active", await StatusAsync(unit));

        var timer = new Dictionary<string, JsonElement> { ["timer"] = JsonSerializer.SerializeToElement(new { IsPastDue = false }) };
        var invoker = app.Service<BeijingEts.Functions.Hosting.Local.LocalInvoker>();
        var (first, _) = await invoker.InvokeAsync(nameof(BeijingEts.Functions.Lists.FinishConfirmedChanges), new BeijingEts.Functions.Hosting.Invocation.InvocationRequest(timer, []), "finish-1", Ct);
        var (second, _) = await invoker.InvokeAsync(nameof(BeijingEts.Functions.Lists.FinishConfirmedChanges), new BeijingEts.Functions.Hosting.Invocation.InvocationRequest(timer, []), "finish-2", Ct);

        Assert.True(first && second);
        Assert.Equal("succeeded", await StatusAsync(unit));
        Assert.Equal("completed", (await _ledger.OutcomeAsync(change.HoldingTransfers![0].TransactionId)).GetProperty("status").GetString());
        Assert.Equal(300, await _ledger.HoldingAsync(successor, vintage: 2035));
        Assert.Equal(0, await _ledger.HoldingAsync(unit, vintage: 2035));
        var finished = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/changes/{change.Id}", Ct);
        Assert.Equal(JsonValueKind.String, finished.GetProperty("effectTakenAt").ValueKind);
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task TonnesFrozenForTheMarket_KeepTheConfirmationBack_UntilTheyAreReleased()
    {
        var unit = await _ledger.NewAccountAsync();
        var successor = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2036);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 100, vintage: 2036);
        var market = app.Service<BeijingEts.Functions.Market.MarketSettlement>();
        var book = new BeijingEts.Functions.Market.BookKey("BEA", 2036);
        Assert.Null(await market.FreezeHoldingsAsync($"freeze-{unit}", unit, book, 40, null, "an open sell order", Ct));
        var id = (await RegisterAsync(unit, "merger", [successor])).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").PostAsync($"/api/changes/{id}/district-confirmation", null, Ct)).StatusCode);

        var refused = await _ledger.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct);

        Assert.Contains("40 t frozen", (await refused.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        Assert.Equal("active", await StatusAsync(unit));
        await market.ReleaseHoldingsAsync($"release-{unit}", unit, book, 40, null, "the order is cancelled", Ct);
        await AssertTransfersCompletedAsync(await ConfirmRegulatorAsync(id));
        Assert.Equal(100, await _ledger.HoldingAsync(successor, vintage: 2036));
        await _ledger.AssertNoDriftAsync();
    }

    private async Task<JsonElement> ConfirmRegulatorAsync(string id)
    {
        var response = await _ledger.Regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private async Task<JsonElement> ComplianceAsync(string unit, int year, Func<JsonElement, bool> settled)
    {
        JsonElement view = default;
        await Eventually.HoldsAsync(async () =>
        {
            view = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{unit}/compliance/{year}", Ct);
            return view.GetProperty("pendingT").GetInt64() == 0 && settled(view);
        }, $"unit {unit}'s {year} compliance is settled");
        return view;
    }

    [Fact]
    public async Task SuccessionCannotBeSentThroughTheApi()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        var response = await _ledger.SubmitAsync(_ledger.Regulator, "succession", a, b, 1);

        Assert.Contains("not sent", (await response.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
    }
}
