using BeijingEts.Functions.Hosting.Invocation;
using BeijingEts.Functions.Hosting.Local;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class AccountLifecycleFixture : FastQueueFixture;

public sealed class AccountLifecycleTests(AccountLifecycleFixture app) : IClassFixture<AccountLifecycleFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Closure_NeedsAnEmptyAccount_AndAClosedAccountReceivesNothing()
    {
        var a = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2039);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 60, vintage: 2039);
        var unit = app.Client("unit", a);

        var refused = await unit.PostAsync($"/api/accounts/{a}/closure", null, Ct);
        Assert.Contains("still holds 60 t of BEA 2039", (await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);

        await _ledger.SettleAsync(unit, "cancellation", a, "cancellation", 60, vintage: 2039);
        var closed = await unit.PostAsync($"/api/accounts/{a}/closure", null, Ct);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal("closed", (await closed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());

        var credit = await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 10, vintage: 2039);
        Assert.Equal("rejected", credit.GetProperty("status").GetString());
        Assert.Contains("closed", credit.GetProperty("reason").GetString());
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task RemovedUnitPastItsThreeYearDeadline_HasItsAccountSuspendedByTheDailyTimer()
    {
        var overdue = await RemovedUnitAsync("2020-06-01");
        var recent = await RemovedUnitAsync("2026-06-01");

        var timer = new Dictionary<string, JsonElement> { ["timer"] = JsonSerializer.SerializeToElement(new { IsPastDue = false }) };
        var (succeeded, _) = await app.Service<LocalInvoker>().InvokeAsync(nameof(SuspendOverdueRemovedAccounts), new InvocationRequest(timer, []), "daily-1", Ct);

        Assert.True(succeeded);
        var overdueAccount = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{overdue}", Ct);
        Assert.Equal("suspended", overdueAccount.GetProperty("status").GetString());
        Assert.Contains(SuspendOverdueRemovedAccounts.Suspension, overdueAccount.GetProperty("suspensions").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("active", (await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{recent}", Ct)).GetProperty("status").GetString());

        // The overdue unit is told why, once though the timer runs daily; the unit still in time is told nothing.
        await app.Service<LocalInvoker>().InvokeAsync(nameof(SuspendOverdueRemovedAccounts), new InvocationRequest(timer, []), "daily-2", Ct);
        var told = Assert.Single(await app.Client("unit", overdue).NoticesAsync("account.suspended"));
        Assert.Equal($"account-{overdue}-{SuspendOverdueRemovedAccounts.Suspension}", told.GetProperty("id").GetString());
        Assert.Contains("removed from the list on 2020-06-01, account not closed by 2023-06-01 (Art. 9)", told.GetProperty("bodyEn").GetString());
        Assert.Contains("未于 2023-06-01 前注销账户", told.GetProperty("bodyZh").GetString());
        Assert.Empty(await app.Client("unit", recent).NoticesAsync("account.suspended"));
        // The unit is told in each language on its own: no English in the Chinese text, no Chinese in the English.
        Assert.DoesNotMatch("[A-Za-z]{2,}", told.GetProperty("bodyZh").GetString()!.Replace(overdue, "", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"\p{IsCJKUnifiedIdeographs}", told.GetProperty("bodyEn").GetString()!);
    }

    /// <summary>A key unit of the 2022 list, removed with the given effective date through the whole Art. 9 procedure.</summary>
    private async Task<string> RemovedUnitAsync(string effectiveOn)
    {
        var uscc = await Lists.TestUnits.RegisterAsync(_ledger.Regulator, district: "通州区");
        await _ledger.Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/2022", new { energyConsumptionTce = 5000, directEmissionsT = 9000, indirectEmissionsT = 0 }, Ct);
        await _ledger.Regulator.PostAsync("/api/lists/2022/publish", null, Ct);
        var requested = await app.Client("district", "通州区").PostAsJsonAsync($"/api/units/{uscc}/removals", new { reason = "ceased", effectiveOn, explanation = "关闭" }, Ct);
        var id = (await requested.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "通州区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct)).StatusCode);
        return uscc;
    }
}
