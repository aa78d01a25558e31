using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class VerifiedAllocationFixture : FastQueueFixture;

/// <summary>Art. 14: verified allocation on confirmed figures, top-up or claw-back, and the unrecovered claw-back carried into next year.</summary>
public sealed class VerifiedAllocationTests(VerifiedAllocationFixture app) : IClassFixture<VerifiedAllocationFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private readonly ReportingClient _reporting = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Regulator => _ledger.Regulator;

    /// <summary>A unit with statistics that make it a key unit of each of <paramref name="years"/>, with those years' lists published.</summary>
    private async Task<string> KeyUnitAsync(string industry, params int[] years)
    {
        var uscc = await Lists.TestUnits.RegisterAsync(Regulator, industry: industry);
        foreach (var year in years)
        {
            Assert.True((await Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 5000, directEmissionsT = 10_000, indirectEmissionsT = 0 }, Ct)).IsSuccessStatusCode);
            Assert.True((await Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).IsSuccessStatusCode);
        }
        return uscc;
    }

    /// <summary>Reports the year with one activity line and confirms the given emissions.</summary>
    private async Task ReportAndConfirmAsync(string uscc, int year, string product, decimal output, long emissions)
    {
        await _reporting.SetFactorsAsync(year);
        await _reporting.SubmitAsync(uscc, year, ReportingClient.Report(activity: [new { product, quantity = output, unit = "unit" }]));
        await _reporting.ConfirmAsync(uscc, year, emissions);
    }

    private async Task SetPlanAsync(int year, object method, string industry) =>
        await app.ApproveAsync(await Regulator.PutAsJsonAsync($"/api/allocation/{year}/plan", new
        {
            cap = 10_000_000,
            reserveRatio = 0.05m,
            preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { [industry] = method, ["cement"] = new { method = "historical-total", baseYears = new[] { year - 2, year - 1 }, controlFactor = 1.0m } },
        }, Ct));

    private async Task<JsonElement> RunAsync(string kind, int year)
    {
        var response = await Regulator.PostAsync($"/api/allocation/{year}/{kind}", null, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private async Task<JsonElement> RecordAsync(string uscc, int year) =>
        await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/units/{uscc}", Ct);

    private async Task WaitForAsync(string uscc, int year, long holding) =>
        await Eventually.HoldsAsync(async () => await _ledger.HoldingAsync(uscc, vintage: year) == holding, $"{uscc} holds {holding} t of BEA {year}");

    /// <summary>The run's claw-backs are recorded and finished together; one the ledger refuses takes nothing and is carried whole.</summary>
    [Fact]
    public async Task ClawBacks_AreTakenOnce_AndASuspendedAccountsIsRefused_AndCarriedWhole()
    {
        var benchmark = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.5m } };
        var (held, suspended) = (await KeyUnitAsync("power", 2014, 2015, 2016), await KeyUnitAsync("power", 2014, 2015, 2016));
        foreach (var unit in new[] { held, suspended }) await ReportAndConfirmAsync(unit, 2015, "electricity-mwh", 20_000, 11_000);
        await SetPlanAsync(2016, benchmark, "power");
        await RunAsync("pre-allocation", 2016); // 20,000 MWh × 0.5 = 10,000 → 70% = 7,000 each
        await WaitForAsync(held, 2016, 7_000);
        await WaitForAsync(suspended, 2016, 7_000);
        foreach (var unit in new[] { held, suspended }) await ReportAndConfirmAsync(unit, 2016, "electricity-mwh", 4_000, 2_100); // verified 2,000: 5,000 to take back
        (await Regulator.PostAsJsonAsync($"/api/accounts/{suspended}/suspensions", new { reason = "court-freeze", reference = "(2016)京01执1号" }, Ct)).EnsureSuccessStatusCode();

        var verified = await RunAsync("verified-allocation", 2016);

        Assert.Equal(2, verified.GetProperty("settled").GetInt32());
        Assert.Equal(2_000, await _ledger.HoldingAsync(held, vintage: 2016));
        Assert.Equal(7_000, await _ledger.HoldingAsync(suspended, vintage: 2016));
        var (heldRecord, suspendedRecord) = (await RecordAsync(held, 2016), await RecordAsync(suspended, 2016));
        Assert.Equal((5_000L, 0L), (heldRecord.GetProperty("clawedBack").GetInt64(), heldRecord.GetProperty("carriedDeduction").GetInt64()));
        Assert.Equal((0L, 5_000L), (suspendedRecord.GetProperty("clawedBack").GetInt64(), suspendedRecord.GetProperty("carriedDeduction").GetInt64()));
        Assert.Equal("completed", (await _ledger.OutcomeAsync(Domain.Ledger.LedgerIds.ClawBack(2016, held))).GetProperty("status").GetString());
        var refused = await _ledger.OutcomeAsync(Domain.Ledger.LedgerIds.ClawBack(2016, suspended));
        Assert.Equal("rejected", refused.GetProperty("status").GetString());
        Assert.Contains("suspended", refused.GetRawText());

        // Again: nothing is taken twice, and the refused one is not tried again.
        Assert.Equal(0, (await RunAsync("verified-allocation", 2016)).GetProperty("settled").GetInt32());
        Assert.Equal(2_000, await _ledger.HoldingAsync(held, vintage: 2016));
        Assert.Equal(7_000, await _ledger.HoldingAsync(suspended, vintage: 2016));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ClawBackBeyondHoldings_IsCarried_AndDeductedFromNextYearsAllocation()
    {
        var benchmark = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.5m } };
        var power = await KeyUnitAsync("power", 2022, 2023, 2024, 2025);
        var cement = await KeyUnitAsync("cement", 2022, 2023, 2024);
        var buyer = await _ledger.NewAccountAsync();
        await ReportAndConfirmAsync(power, 2023, "electricity-mwh", 20_000, 11_000);
        await SetPlanAsync(2024, benchmark, "power");

        // 2024 pre-allocation: 20,000 MWh (2023) × 0.5 = 10,000 → 70% = 7,000; cement 10,000 (2022-23 statistics) → 7,000.
        await RunAsync("pre-allocation", 2024);
        await WaitForAsync(power, 2024, 7_000);
        await _ledger.SettleAsync(_ledger.Exchange, "transfer", power, buyer, 4_000, vintage: 2024);
        await ReportAndConfirmAsync(power, 2024, "electricity-mwh", 4_000, 2_100);
        await ReportAndConfirmAsync(cement, 2024, "clinker-t", 1_000, 9_500);

        // Verified: 4,000 × 0.5 = 2,000: 5,000 to claw back, 3,000 held → 3,000 taken, 2,000 carried. Cement tops up 3,000.
        var verified = await RunAsync("verified-allocation", 2024);

        Assert.Equal(2, verified.GetProperty("settled").GetInt32());
        Assert.Equal(0, await _ledger.HoldingAsync(power, vintage: 2024));
        await WaitForAsync(cement, 2024, 10_000);
        var powerRecord = await RecordAsync(power, 2024);
        Assert.Equal(2_000, powerRecord.GetProperty("verified").GetInt64());
        Assert.Equal(7_000, powerRecord.GetProperty("preAllocated").GetInt64());
        Assert.Equal(5_000, powerRecord.GetProperty("clawBack").GetInt64());
        Assert.Equal(3_000, powerRecord.GetProperty("clawedBack").GetInt64());
        Assert.Equal(2_000, powerRecord.GetProperty("carriedDeduction").GetInt64());
        Assert.Equal(BeijingToday, powerRecord.GetProperty("receivedOn").GetString());
        var cementRecord = await RecordAsync(cement, 2024);
        Assert.Equal(3_000, cementRecord.GetProperty("topUp").GetInt64());
        Assert.Equal(0, cementRecord.GetProperty("carriedDeduction").GetInt64());
        // Each unit is told its own result (Art. 15's window runs from it), with what was taken back and what comes off next year.
        var powerTold = (await app.Client("unit", power).NoticeAsync("allocation-verified-2024"))!.Value.GetProperty("bodyEn").GetString();
        Assert.Contains("verified allocation is 2000 t; 0 t topped up, 3000 t taken back, 2000 t to come off next year's allocation", powerTold);
        Assert.Contains("核定配额为 2000 吨；补发 0 吨，收回 3000 吨，结转至下一年度扣减 2000 吨", (await app.Client("unit", power).NoticeAsync("allocation-verified-2024"))!.Value.GetProperty("bodyZh").GetString());
        Assert.Contains("verified allocation is 10000 t; 3000 t topped up, 0 t taken back", (await app.Client("unit", cement).NoticeAsync("allocation-verified-2024"))!.Value.GetProperty("bodyEn").GetString());
        Assert.Null(await app.Client("unit", buyer).NoticeAsync("allocation-verified-2024"));

        // Again: nobody is settled twice.
        var again = await RunAsync("verified-allocation", 2024);
        Assert.Equal(0, again.GetProperty("settled").GetInt32());
        Assert.Equal(2, again.GetProperty("settledBefore").GetInt32());

        // 2025: pre-allocation on 2024's 4,000 MWh → 2,000 → 1,400; verified on 10,000 MWh → 5,000, less 1,400 pre-allocated
        // and the 2,000 carried from 2024 → a top-up of 1,600.
        await SetPlanAsync(2025, benchmark, "power");
        await RunAsync("pre-allocation", 2025);
        await WaitForAsync(power, 2025, 1_400);
        await ReportAndConfirmAsync(power, 2025, "electricity-mwh", 10_000, 5_300);
        await RunAsync("verified-allocation", 2025);
        await WaitForAsync(power, 2025, 3_000);
        var next = await RecordAsync(power, 2025);
        Assert.Equal(5_000, next.GetProperty("verified").GetInt64());
        Assert.Equal(2_000, next.GetProperty("deductedFromPreviousYear").GetInt64());
        Assert.Equal(1_600, next.GetProperty("topUp").GetInt64());
        var deducted = (await app.Client("unit", power).NoticeAsync("allocation-verified-2025"))!.Value;
        Assert.Contains("5000 t; 2000 t of last year's unrecovered claw-back deducted; 1600 t topped up", deducted.GetProperty("bodyEn").GetString());
        Assert.Contains("扣减上一年度未收回配额 2000 吨", deducted.GetProperty("bodyZh").GetString());
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task HistoricalIntensity_UsesTheBaseYearsMeanIntensityOnTheYearsActivity()
    {
        var heat = await KeyUnitAsync("heat", 2021, 2022, 2023);
        await ReportAndConfirmAsync(heat, 2021, "heat-gj", 10_000, 1_000); // 0.10 t/GJ
        await ReportAndConfirmAsync(heat, 2022, "heat-gj", 10_000, 1_200); // 0.12 t/GJ → mean 0.11
        var intensity = new { method = "historical-intensity", baseYears = new[] { 2021, 2022 }, controlFactor = 0.98m };
        await SetPlanAsync(2023, intensity, "heat");

        // Pre-allocation on 2022's 10,000 GJ: 10,000 × 0.11 × 0.98 = 1,078 → 70% = 754.6 → 755.
        await RunAsync("pre-allocation", 2023);
        await WaitForAsync(heat, 2023, 755);
        // Verified on 2023's 20,000 GJ: 20,000 × 0.11 × 0.98 = 2,156 → top-up 1,401.
        await ReportAndConfirmAsync(heat, 2023, "heat-gj", 20_000, 2_300);
        await RunAsync("verified-allocation", 2023);

        await WaitForAsync(heat, 2023, 2_156);
        var record = await RecordAsync(heat, 2023);
        Assert.Equal("historical-intensity", record.GetProperty("method").GetString());
        Assert.Equal(1_401, record.GetProperty("topUp").GetInt64());
    }

    [Fact]
    public async Task UnconfirmedUnits_AreListedAndLeftForALaterRun()
    {
        var waiting = await KeyUnitAsync("cement", 2017, 2018, 2019);
        await SetPlanAsync(2019, new { method = "historical-total", baseYears = new[] { 2017, 2018 }, controlFactor = 1.0m }, "cement");
        await RunAsync("pre-allocation", 2019);

        var first = await RunAsync("verified-allocation", 2019);
        var failure = Assert.Single(first.GetProperty("failures").EnumerateArray(), f => f.GetProperty("uscc").GetString() == waiting);
        Assert.Contains("not confirmed", failure.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, (await RecordAsync(waiting, 2019)).GetProperty("verified").ValueKind);

        await ReportAndConfirmAsync(waiting, 2019, "clinker-t", 1_000, 10_000);
        var second = await RunAsync("verified-allocation", 2019);
        Assert.DoesNotContain(second.GetProperty("failures").EnumerateArray(), f => f.GetProperty("uscc").GetString() == waiting);
        await WaitForAsync(waiting, 2019, 10_000);
    }

    private static string BeijingToday => DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd");
}
