using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class ObjectionTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateOnly Today => DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime);

    /// <summary>A unit whose allocation for the year was received on the given day.</summary>
    private async Task<string> AllocatedUnitAsync(int year, DateOnly receivedOn)
    {
        var uscc = await _ledger.NewAccountAsync();
        await app.Service<AllocationStore>().PutManyAsync([new UnitAllocation(year, uscc, "cement", "historical-total", new Tonnes(10_000), new Tonnes(7_000), receivedOn, null)], Ct);
        return uscc;
    }

    [Fact]
    public async Task UpheldObjection_IsPaidFromTheReserveAndFreesTheUnitToObjectAgain()
    {
        await _ledger.PutCalendarForNextYearAsync();
        var uscc = await AllocatedUnitAsync(2029, Today);
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1_000, vintage: 2029);
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", "reserve", 500, vintage: 2029)).GetProperty("status").GetString());
        var unit = app.Client("unit", uscc);

        var filed = await unit.PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = "基准年排放量有误" }, Ct);
        Assert.Equal(HttpStatusCode.Created, filed.StatusCode);
        var objection = (await filed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("objection");
        var id = objection.GetProperty("id").GetString();
        Assert.True(DateOnly.Parse(objection.GetProperty("decisionDeadline").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= Today.AddDays(12));
        var second = await unit.PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = "again" }, Ct);
        await second.AssertProblemAsync(HttpStatusCode.Conflict);
        // The regulator, who must decide it, is told, with the reason and the deadline; the unit's own inbox has no such notice.
        var toDecide = (await _ledger.Regulator.NoticeAsync($"objection-{id}-filed"))!.Value;
        Assert.Equal("objection.filed", toDecide.GetProperty("kind").GetString());
        Assert.Contains("基准年排放量有误", toDecide.GetProperty("bodyZh").GetString());
        Assert.Contains($"Decide by {objection.GetProperty("decisionDeadline").GetString()}", toDecide.GetProperty("bodyEn").GetString());
        Assert.Null(await unit.NoticeAsync($"objection-{id}-filed"));
        Assert.Single(await _ledger.Regulator.NoticesAsync("objection.filed"), n => n.GetProperty("bodyEn").GetString()!.StartsWith(uscc, StringComparison.Ordinal)); // the refused second one told nobody

        var proposed = await _ledger.Regulator.PostAsJsonAsync($"/api/objections/{id}/decision", new { outcome = "upheld", adjustment = 120, explanation = "核实后调整" }, Ct);
        Assert.Equal("open", (await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/objections/{id}", Ct)).GetProperty("objection").GetProperty("state").GetString());
        await app.ApproveAsync(proposed);
        var view = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/objections/{id}", Ct);
        Assert.False(view.GetProperty("overdue").GetBoolean());
        Assert.Equal("completed", (await _ledger.OutcomeAsync(view.GetProperty("objection").GetProperty("adjustmentTransactionId").GetString()!)).GetProperty("status").GetString());
        Assert.Equal(120, await _ledger.HoldingAsync(uscc, vintage: 2029));
        Assert.Equal(380, await _ledger.HoldingAsync("reserve", vintage: 2029));
        var upheld = (await unit.NoticeAsync($"objection-{id}-decided"))!.Value;
        Assert.Contains("upheld; 120 t adjusted", upheld.GetProperty("bodyEn").GetString());
        Assert.Contains("调整配额 120 吨", upheld.GetProperty("bodyZh").GetString());
        await (await _ledger.Regulator.PostAsJsonAsync($"/api/objections/{id}/decision", new { outcome = "rejected" }, Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Created, (await unit.PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = "新的异议" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task TheUnitsAllocation_SaysWhenItsNoticeReachedIt_AndUntilWhenItMayObject()
    {
        await _ledger.PutCalendarForNextYearAsync();
        var uscc = await AllocatedUnitAsync(2029, Today);
        await app.Service<NoticeOutbox>().PublishAsync(NoticeTemplates.PreAllocation(uscc, 2029, new Tonnes(7_000)), Ct);
        var unit = app.Client("unit", uscc);

        // In the inbox since today, neither emailed nor read: not received yet, so the seven working days have not begun.
        var before = await unit.GetFromJsonAsync<JsonElement>($"/api/allocation/2029/units/{uscc}", Ct);
        Assert.Equal(JsonValueKind.Null, before.GetProperty("noticeReceivedOn").ValueKind);
        Assert.Equal(JsonValueKind.Null, before.GetProperty("objectionDueOn").ValueKind);
        Assert.Equal(Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), before.GetProperty("receivedOn").GetString()); // the issue date, as before
        Assert.Equal(7_000, before.GetProperty("preAllocated").GetInt64());

        (await unit.PostAsync("/api/notifications/allocation-pre-2029/read", null, Ct)).EnsureSuccessStatusCode();
        var after = await unit.GetFromJsonAsync<JsonElement>($"/api/allocation/2029/units/{uscc}", Ct);
        var today = Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(today, after.GetProperty("noticeReceivedOn").GetString());
        var due = await unit.GetFromJsonAsync<JsonElement>($"/api/calendar/add-working-days?from={today}&days=7", Ct);
        Assert.Equal(due.GetProperty("date").GetString(), after.GetProperty("objectionDueOn").GetString());
        // Its district sees the same dates.
        var district = await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>($"/api/allocation/2029/units/{uscc}", Ct);
        Assert.Equal(after.GetProperty("objectionDueOn").GetString(), district.GetProperty("objectionDueOn").GetString());

        // A result issued before notices were sent counts from its issue, as filing an objection does (refused after January 14).
        var old = await AllocatedUnitAsync(2026, new DateOnly(2026, 1, 5));
        var record = await app.Client("unit", old).GetFromJsonAsync<JsonElement>($"/api/allocation/2026/units/{old}", Ct);
        Assert.Equal(("2026-01-05", "2026-01-14"), (record.GetProperty("noticeReceivedOn").GetString(), record.GetProperty("objectionDueOn").GetString()));
    }

    [Fact]
    public async Task ObjectionAfterSevenWorkingDays_IsRefusedNamingTheDeadline()
    {
        var uscc = await AllocatedUnitAsync(2026, new DateOnly(2026, 1, 5));

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/2026/units/{uscc}/objections", new { reason = "late" }, Ct);

        // Jan 6, 7, 8, 9, 12, 13, 14: the seventh working day after January 5.
        Assert.Contains("2026-01-14", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task OnlyTheUnitObjects_AndARejectionCarriesNoAdjustment()
    {
        await _ledger.PutCalendarForNextYearAsync();
        var uscc = await AllocatedUnitAsync(2029, Today);

        await (await app.Client("unit", Lists.TestUnits.NewUscc()).PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = "x" }, Ct))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _ledger.Regulator.PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = "x" }, Ct))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = new string('长', 4001) }, Ct))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        var filed = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/2029/units/{uscc}/objections", new { reason = new string('长', 4000) }, Ct);
        Assert.Equal(HttpStatusCode.Created, filed.StatusCode);
        var id = (await filed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("objection").GetProperty("id").GetString();
        // A long reason is quoted in part: the notice links to the whole objection.
        var quoted = (await _ledger.Regulator.NoticeAsync($"objection-{id}-filed"))!.Value.GetProperty("bodyZh").GetString()!;
        Assert.Contains(new string('长', 500) + "…", quoted);
        Assert.DoesNotContain(new string('长', 501), quoted);
        await (await _ledger.Regulator.PostAsJsonAsync($"/api/objections/{id}/decision", new { outcome = "rejected", adjustment = 5 }, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Null(await app.Client("unit", uscc).NoticeAsync($"objection-{id}-decided")); // nothing decided, nothing told

        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PostAsJsonAsync($"/api/objections/{id}/decision", new { outcome = "rejected", explanation = "数据无误" }, Ct)).StatusCode);
        var rejected = (await app.Client("unit", uscc).NoticeAsync($"objection-{id}-decided"))!.Value;
        Assert.Equal("objection.decided", rejected.GetProperty("kind").GetString());
        Assert.Contains("Your objection was rejected", rejected.GetProperty("bodyEn").GetString());
        Assert.Null(await _ledger.Regulator.NoticeAsync($"objection-{id}-decided"));
    }
}
