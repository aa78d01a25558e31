namespace BeijingEts.Functions.Allocation;

public static class AllocationServices
{
    public static IServiceCollection AddAllocation(this IServiceCollection services) => services
        .AddSingleton<AllocationPlanStore>()
        .AddSingleton<AllocationStore>()
        .AddSingleton<AllocationPayout>()
        .AddSingleton<PreAllocationService>()
        .AddSingleton<VerifiedAllocationService>()
        .AddSingleton<ObjectionStore>()
        .AddSingleton<AllocationPlanSetter>()
        .AddSingleton<ObjectionDecisions>()
        .AddSingleton<AdjustmentStore>()
        .AddSingleton<ReserveLedger>()
        .AddSingleton<AdjustmentDecisions>();
}
